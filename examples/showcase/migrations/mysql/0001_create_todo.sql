-- 0001_create_todo.sql
-- A StarModel migration for mysql, generated from the difference between
-- the entities and the database. Review it before it is applied; once
-- applied it must not change (its checksum is recorded).
-- MySQL commits every schema change at once: if a statement fails, the
-- ones before it stay applied.
--
-- create table todo

-- create table todo
CREATE TABLE IF NOT EXISTS `todo` ( `id` CHAR(36) NOT NULL PRIMARY KEY, `title` VARCHAR(200) NOT NULL, `done` BOOLEAN NOT NULL, `_version` BIGINT NOT NULL, KEY `todo_done_idx` (`done`) ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 /*!80000 COLLATE=utf8mb4_bin */ /*M!100202 COLLATE=utf8mb4_nopad_bin */;
