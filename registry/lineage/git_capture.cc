#include "lineage/git_capture.h"

#include <git2.h>

#include <memory>

namespace modelreg {
namespace {

Status GitError(const std::string& what) {
  const git_error* e = git_error_last();
  return Status::Internal(what + ": " + (e && e->message ? e->message : "libgit2 error"));
}

struct GitLib {
  GitLib() { git_libgit2_init(); }
  ~GitLib() { git_libgit2_shutdown(); }
};

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Repo = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using Ref = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using Remote = std::unique_ptr<git_remote, Deleter<git_remote, git_remote_free>>;
using StatusList = std::unique_ptr<git_status_list, Deleter<git_status_list, git_status_list_free>>;

}  // namespace

std::string StripUrlCredentials(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;  // scp-like "git@host:x.git" has no secret
  auto host_start = scheme + 3;
  auto slash = url.find('/', host_start);
  auto at = url.rfind('@', slash == std::string::npos ? std::string::npos : slash);
  if (at == std::string::npos || at < host_start) return url;
  return url.substr(0, host_start) + url.substr(at + 1);
}

Result<CodeRef> CaptureGitCode(const std::string& dir) {
  static GitLib lib;
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, dir.c_str(), 0, nullptr);
  if (rc == GIT_ENOTFOUND) return Status::NotFound(dir + " is not inside a git repository");
  if (rc != 0) return GitError("opening git repository at " + dir);
  Repo repo(raw);

  CodeRef code;
  git_oid oid;
  rc = git_reference_name_to_id(&oid, repo.get(), "HEAD");
  if (rc != 0) return Status::FailedPrecondition("git repository at " + dir + " has no commit yet");
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  code.commit = hex;

  git_reference* head = nullptr;
  if (git_repository_head(&head, repo.get()) == 0) {
    Ref h(head);
    if (git_reference_is_branch(h.get())) {
      const char* name = nullptr;
      if (git_branch_name(&name, h.get()) == 0 && name) code.branch = name;
    }
  }

  git_strarray remotes = {nullptr, 0};
  if (git_remote_list(&remotes, repo.get()) == 0 && remotes.count > 0) {
    // Prefer "origin" if present, else the first remote listed.
    std::string pick = remotes.strings[0];
    for (size_t i = 0; i < remotes.count; ++i)
      if (std::string(remotes.strings[i]) == "origin") pick = "origin";
    git_remote* r = nullptr;
    if (git_remote_lookup(&r, repo.get(), pick.c_str()) == 0) {
      Remote remote(r);
      if (const char* url = git_remote_url(remote.get())) code.repo = StripUrlCredentials(url);
    }
  }
  git_strarray_dispose(&remotes);

  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;  // untracked files are not "dirty"
  git_status_list* sl = nullptr;
  if (git_status_list_new(&sl, repo.get(), &opts) != 0) return GitError("reading git status");
  StatusList list(sl);
  code.dirty = git_status_list_entrycount(list.get()) > 0;
  return code;
}

}  // namespace modelreg
