#include "blob/blob_backend.h"

namespace modelreg {

Result<std::string> BlobBackend::ReadSmall(const Digest& d, size_t limit, bool verify) const {
  MR_ASSIGN_OR_RETURN(auto reader, Open(d));
  if (reader->size() > limit)
    return Status::FailedPrecondition("blob " + d.str() + " has " + std::to_string(reader->size()) +
                                      " bytes, more than the " + std::to_string(limit) + " allowed here");
  std::string out(static_cast<size_t>(reader->size()), '\0');
  size_t got = 0;
  while (got < out.size()) {
    MR_ASSIGN_OR_RETURN(size_t n, reader->ReadAt(got, out.data() + got, out.size() - got));
    if (n == 0) return Status::DataLoss("blob " + d.str() + " ended after " + std::to_string(got) + " bytes");
    got += n;
  }
  // Checked here whatever the backend: small reads feed decisions (lineage).
  if (!verify) return out;
  Digest have = Digest::Of(out);
  if (have != d) return Status::DataLoss("blob " + d.str() + " is corrupt: its bytes hash to " + have.str());
  return out;
}

}  // namespace modelreg
