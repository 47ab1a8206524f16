#!/usr/bin/env bash
# make-training-repo.sh DIR
#
# Creates (or refreshes) a real git repository in DIR that looks like a data-science
# team's training repo, for `modelreg register --code-dir DIR`:
#   - branch main, local user.name/user.email, remote origin
#     https://git.example.com/ds/churn.git (never contacted)
#   - train.py (copied from examples/train/train.py) and a .gitignore for out/ meta/ data/
#   - everything committed, so the working tree is clean.
#
# Author/committer dates are fixed, so a fresh DIR always gets the same commit id,
# and the bundle digest of a re-run demo does not change.
# If DIR is already such a repository, the files are re-copied and committed only
# when they changed. A non-empty DIR that is not a git repository is refused.
# Prints one line: "training repo DIR: main <commit> origin <url>".
set -euo pipefail

ORIGIN_URL="https://git.example.com/ds/churn.git"

die() { echo "make-training-repo: $*" >&2; exit 1; }

[[ $# -eq 1 && -n "$1" ]] || { echo "usage: make-training-repo.sh DIR" >&2; exit 2; }
dest=$1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/../../examples/train/train.py"
[[ -f "$src" ]] || die "cannot find $src"
command -v git >/dev/null || die "git is not installed"

# Keep the machine's git configuration (hooks, signing, autocrlf, templates) out of it.
export GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL=/dev/null
export GIT_TEMPLATE_DIR=""
export GIT_AUTHOR_NAME="Churn Trainer" GIT_AUTHOR_EMAIL="ds@example.com"
export GIT_COMMITTER_NAME="Churn Trainer" GIT_COMMITTER_EMAIL="ds@example.com"
export GIT_AUTHOR_DATE="2026-11-01T12:00:00+0000"
export GIT_COMMITTER_DATE="2026-11-01T12:00:00+0000"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE

mkdir -p -- "$dest"
dest=$(cd -- "$dest" && pwd)
g() { git -C "$dest" "$@"; }

if [[ -e "$dest/.git" ]]; then
    [[ "$(g rev-parse --show-toplevel 2>/dev/null)" == "$dest" ]] \
        || die "$dest/.git exists but $dest is not the top of a git work tree"
else
    [[ -z "$(ls -A -- "$dest")" ]] || die "$dest is not empty and not a git repository"
    g init -q -b main
fi

g config user.name "Churn Trainer"
g config user.email "ds@example.com"
g config commit.gpgsign false
if g remote get-url origin >/dev/null 2>&1; then
    g remote set-url origin "$ORIGIN_URL"
else
    g remote add origin "$ORIGIN_URL"
fi
if [[ "$(g symbolic-ref --short -q HEAD || true)" != main ]]; then
    g checkout -q -B main
fi

install -m 0755 -- "$src" "$dest/train.py"
printf '%s\n' '# written by training runs, never committed' 'out/' 'meta/' 'data/' > "$dest/.gitignore"

g add -- train.py .gitignore
if ! g rev-parse -q --verify HEAD >/dev/null; then
    g commit -q -m "Add churn training job"
elif ! g diff --cached --quiet; then
    g commit -q -m "Update churn training job"
fi

[[ -z "$(g status --porcelain)" ]] || die "working tree of $dest is not clean after commit"
echo "training repo $dest: main $(g rev-parse HEAD) origin $ORIGIN_URL"
