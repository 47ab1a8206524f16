#include "api/blob_response.h"

#include "api/metrics.h"
#include "net/byte_range.h"

namespace modelreg::api {
namespace {
// Bytes per sendfile call: the metrics' byte counter moves this often.
constexpr size_t kSendFileChunk = 8 << 20;
}  // namespace

Status SendBlob(Ctx& c, std::unique_ptr<BlobReader> reader, const std::string& digest,
                const std::string& content_type) {
  const uint64_t size = reader->size();
  c.res.set_header("Docker-Content-Digest", digest);
  c.res.set_header("ETag", "\"" + digest + "\"");
  c.res.set_header("Accept-Ranges", "bytes");
  if (c.range_unreadable) {
    c.res.set_header("Content-Range", "bytes */" + std::to_string(size));
    return Status::OutOfRange("Range header not understood: give bytes=START-END, bytes=START- or bytes=-COUNT");
  }
  const net::RangeChoice part = net::ChooseRange(c.ranges, size);
  if (part.kind == net::RangeChoice::kUnsatisfiable) {
    c.res.set_header("Content-Range", net::ContentRange(part, size));
    return Status::OutOfRange("range '" + c.req.get_header_value("Range") + "' is outside " + digest + " (" +
                              std::to_string(size) + " bytes)");
  }
  if (part.kind == net::RangeChoice::kPart) {
    c.res.status = 206;
    c.res.set_header("Content-Range", net::ContentRange(part, size));
  }
  c.res.set_header("Cache-Control", "max-age=31536000, immutable");
  std::shared_ptr<BlobReader> file(std::move(reader));
  auto buf = std::make_shared<std::vector<char>>();
  const uint64_t start = part.start;
  const uint64_t length_all = part.length;
  c.res.set_content_provider(part.length, content_type,
                             [file, buf, start, length_all](size_t offset, size_t length, DataSink& sink) {
                               // Plain HTTP from a trusted file: straight from the page cache
                               // to the socket (no read copy, no send copy; bench/README.md).
                               if (sink.send_file && file->trusted_fd() >= 0) {
                                 const size_t n = std::min<size_t>(length, kSendFileChunk);
                                 if (!sink.send_file(file->trusted_fd(), start + offset, n)) return false;
                                 AddBytesSent(n);
                                 return true;
                               }
                               if (buf->empty()) buf->resize(static_cast<size_t>(std::min<uint64_t>(length, 1 << 20)));
                               size_t want = std::min(length, buf->size());
                               auto n = file->ReadAt(start + offset, buf->data(), want);
                               // Shrank, I/O error or wrong bytes: abort the response.
                               if (!n.ok() || *n == 0) return false;
                               if (offset + *n == length_all && !file->VerifyWhole().ok()) return false;
                               AddBytesSent(static_cast<uint64_t>(*n));
                               return sink.write(buf->data(), *n);
                             });
  return Status::OK();
}

}  // namespace modelreg::api
