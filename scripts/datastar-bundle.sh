#!/usr/bin/env bash
# Obtains the unmodified Datastar v1.0.4 browser bundle for tests and local runs.
#
# The project does not commit third-party code and machines here cannot reach the
# CDN, so the bundle comes from the crates.io package `runnerd-web` 0.0.27, which
# ships it verbatim at `assets/datastar.js`. The file lands in
# `$CARGO_TARGET_DIR/datastar/datastar.js` (default `target/`), is checked
# against the pinned sha256, and its absolute path is the last line on stdout:
#
#     export STARMODEL_DATASTAR_JS="$(scripts/datastar-bundle.sh)"
#
# Messages go to stderr. Running it again with a good copy in place does nothing.
set -euo pipefail

readonly PACKAGE=runnerd-web
readonly VERSION=0.0.27
readonly MEMBER="$PACKAGE-$VERSION/assets/datastar.js"
readonly SHA256=727844adfc825ee651fb93c544a2a739986f9a21820a94524b35f0cac470cf91
readonly FIRST_LINE='// Datastar v1.0.4'

say() { echo "datastar-bundle: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
case "$target_dir" in
/*) ;;
*) target_dir="$PWD/$target_dir" ;; # as cargo does: relative to the working directory
esac
out_dir="$target_dir/datastar"
out="$out_dir/datastar.js"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Deletes `$out` and fails unless it is the pinned bundle.
verify() {
	local actual first
	actual="$(sha256_of "$out")"
	if [[ "$actual" != "$SHA256" ]]; then
		rm -f "$out"
		die "$out has sha256 $actual, expected $SHA256; deleted it"
	fi
	first="$(head -n 1 "$out")"
	if [[ "$first" != "$FIRST_LINE" ]]; then
		rm -f "$out"
		die "$out starts with \`$first\`, expected \`$FIRST_LINE\`; deleted it"
	fi
}

if [[ -f "$out" && "$(sha256_of "$out")" == "$SHA256" ]]; then
	verify
	echo "$out"
	exit 0
fi

cache_glob() {
	compgen -G "${CARGO_HOME:-$HOME/.cargo}/registry/cache/*/$PACKAGE-$VERSION.crate" | head -n 1 || true
}

crate_file="$(cache_glob)"
if [[ -z "$crate_file" ]]; then
	say "fetching $PACKAGE@$VERSION from crates.io into cargo's registry cache"
	# `cargo info` downloads the archive to read its manifest; run it outside the
	# workspace so the workspace's own lock file and members play no part.
	(cd / && cargo info --quiet "$PACKAGE@$VERSION" >/dev/null) ||
		die "\`cargo info $PACKAGE@$VERSION\` failed (is crates.io reachable?)"
	crate_file="$(cache_glob)"
	[[ -n "$crate_file" ]] ||
		die "$PACKAGE-$VERSION.crate is not in ${CARGO_HOME:-$HOME/.cargo}/registry/cache after \`cargo info\`"
fi

mkdir -p "$out_dir"
tmp="$(mktemp "$out_dir/.datastar.js.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
tar -xzOf "$crate_file" "$MEMBER" >"$tmp" ||
	die "$crate_file has no $MEMBER"
mv "$tmp" "$out"
verify
say "extracted Datastar v1.0.4 from $crate_file"
echo "$out"
