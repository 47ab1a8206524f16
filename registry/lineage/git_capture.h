// Captures the code facts of a training run from its git working tree with
// libgit2: HEAD commit, branch, the first remote's URL with credentials
// stripped, and whether tracked files differ from HEAD (untracked files do
// not make a tree dirty, as in MLflow). Thread-safe.
#pragma once

#include <string>

#include "core/lineage_record.h"
#include "core/status.h"

namespace modelreg {

// `dir` may be anywhere inside the working tree. NotFound if it is not in a
// git repository; FailedPrecondition if HEAD has no commit yet.
Result<CodeRef> CaptureGitCode(const std::string& dir);

// "https://user:secret@host/x.git" -> "https://host/x.git".
std::string StripUrlCredentials(const std::string& url);

}  // namespace modelreg
