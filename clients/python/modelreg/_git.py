"""The code facts of a training run from its git working tree, with the `git` command.

The same facts the CLI gathers with libgit2 (registry/lineage/git_capture.cc): the HEAD
commit, the branch (when HEAD is on one), the URL of the remote "origin" (else of the first
remote in name order) with credentials stripped, and whether tracked files differ from HEAD
(untracked files and submodules do not make a tree dirty).
"""

import subprocess


def strip_url_credentials(url):
    """"https://user:secret@host/x.git" -> "https://host/x.git"."""
    scheme = url.find("://")
    if scheme < 0:
        return url  # scp-like "git@host:x.git" holds no secret
    host_start = scheme + 3
    slash = url.find("/", host_start)
    at = url.rfind("@", 0, len(url) if slash < 0 else slash + 1)
    if at < host_start:
        return url
    return url[:host_start] + url[at + 1:]


def _git(code_dir, *args, check=True):
    try:
        p = subprocess.run(["git", "-C", code_dir] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
    except FileNotFoundError as e:
        raise ValueError("code_dir: the git command is not installed") from e
    if check and p.returncode != 0:
        raise ValueError("code_dir: git %s in %s failed: %s"
                         % (" ".join(args), code_dir, p.stderr.decode("utf-8", "replace").strip()))
    return p


def _out(p):
    return p.stdout.decode("utf-8", "replace").strip()


def capture_git_code(code_dir):
    """{"repo", "commit", "dirty"[, "branch"]} of the working tree holding `code_dir`."""
    if _git(code_dir, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise ValueError("code_dir: %s is not inside a git repository" % code_dir)
    head = _git(code_dir, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    if head.returncode != 0:
        raise ValueError("code_dir: git repository at %s has no commit yet" % code_dir)
    code = {"repo": "", "commit": _out(head), "dirty": False}
    branch = _git(code_dir, "symbolic-ref", "-q", "--short", "HEAD", check=False)
    if branch.returncode == 0 and _out(branch):
        code["branch"] = _out(branch)
    remotes = sorted(_out(_git(code_dir, "remote")).split())
    if remotes:
        pick = "origin" if "origin" in remotes else remotes[0]
        url = _git(code_dir, "remote", "get-url", pick, check=False)
        if url.returncode == 0:
            code["repo"] = strip_url_credentials(_out(url))
    status = _git(code_dir, "status", "--porcelain", "--untracked-files=no", "--ignore-submodules=all")
    code["dirty"] = bool(status.stdout.strip())
    return code
