#include "client/pull_dest.h"

#include <fcntl.h>
#include <stdio.h>

#include <cerrno>
#include <filesystem>
#include <map>

#include "core/digest.h"

namespace modelreg {

namespace fs = std::filesystem;

Result<DestContent> CompareDest(const std::string& dest, const Manifest& m) {
  std::error_code ec;
  const auto st = fs::symlink_status(dest, ec);
  if (ec || st.type() == fs::file_type::not_found) return DestContent::kNothing;
  if (st.type() != fs::file_type::directory) return DestContent::kOther;
  if (fs::is_empty(dest, ec) && !ec) return DestContent::kNothing;
  std::map<std::string, const Descriptor*> want;
  for (const auto& l : m.layers) want[l.title] = &l;
  std::map<std::string, std::string> have;  // title -> path
  for (auto it = fs::recursive_directory_iterator(dest, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto type = it->symlink_status(ec).type();
    if (type == fs::file_type::directory) continue;
    if (type != fs::file_type::regular) return DestContent::kOther;
    have[it->path().lexically_relative(dest).generic_string()] = it->path().string();
  }
  if (ec) return Status::FromErrno("read " + dest, ec.value());
  if (have.size() != want.size()) return DestContent::kOther;
  for (const auto& [title, d] : want) {  // sizes first: cheap, and most differences show there
    auto h = have.find(title);
    if (h == have.end() || fs::file_size(h->second, ec) != d->size || ec) return DestContent::kOther;
  }
  for (const auto& [title, d] : want) {
    MR_ASSIGN_OR_RETURN(FileDigest fd, HashFile(have[title]));
    if (fd.digest != d->digest) return DestContent::kOther;
  }
  return DestContent::kSameBundle;
}

Status ExchangePaths(const std::string& a, const std::string& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return Status::OK();
  if (errno != EINVAL && errno != ENOSYS) return Status::FromErrno("exchange " + a + " and " + b, errno);
  const std::string aside = a + ".old";
  if (::rename(b.c_str(), aside.c_str()) != 0) return Status::FromErrno("rename " + b, errno);
  if (::rename(a.c_str(), b.c_str()) != 0) return Status::FromErrno("rename " + a, errno);
  if (::rename(aside.c_str(), a.c_str()) != 0) return Status::FromErrno("rename " + aside, errno);
  return Status::OK();
}

}  // namespace modelreg
