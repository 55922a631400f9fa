-- 0001_create_todo.sql
-- A StarModel migration for postgres, generated from the difference between
-- the entities and the database. Review it before it is applied; once
-- applied it must not change (its checksum is recorded).
--
-- create table todo

-- create table todo
CREATE TABLE IF NOT EXISTS "todo" ( "id" UUID NOT NULL PRIMARY KEY, "title" TEXT COLLATE "C" NOT NULL, "done" BOOLEAN NOT NULL, "_version" BIGINT NOT NULL );
CREATE INDEX IF NOT EXISTS "todo_done_idx" ON "todo" ("done");
