#include "api/upload_body.h"

#include "api/metrics.h"
#include "api/socket_body.h"
#include "core/upload_framing.h"

namespace modelreg::api {

void SetUploadSessionHeaders(Ctx& c, const std::string& id, const std::string& location, uint64_t offset) {
  c.res.erase_header("Location");
  c.res.set_header("Location", location);
  c.res.set_header("Docker-Upload-UUID", id);
  c.res.set_header("Upload-Offset", std::to_string(offset));
  c.res.set_header("Range", "0-" + std::to_string(offset == 0 ? 0 : offset - 1));
}

Result<uint64_t> AppendUploadBody(Ctx& c, const std::string& id, const std::string& location) {
  MR_ASSIGN_OR_RETURN(auto state, c.svc.GetUpload(c.principal, id));
  uint64_t start = state.offset;
  std::optional<uint64_t> expect_len;
  std::string cr = c.req.get_header_value("Content-Range");
  if (!cr.empty()) {
    MR_ASSIGN_OR_RETURN(auto range, ParseContentRange(cr));
    start = range.first;
    expect_len = range.second - range.first + 1;
    const auto& framing = c.body.framing();
    if (framing.kind == net::RequestFraming::kLength && framing.length != *expect_len)
      return Status::InvalidArgument("Content-Length does not match Content-Range");
  }
  auto out_of_range = [&](uint64_t offset) {
    SetUploadSessionHeaders(c, id, location, offset);
    return Status::OutOfRange("chunk starts at " + std::to_string(start) + " but upload " + id + " is at offset " +
                              std::to_string(offset));
  };
  if (!c.body.present()) {
    if (start != state.offset) return out_of_range(state.offset);
    return state.offset;
  }
  // The offset is checked by AppendUpload, which first takes the session:
  // one another request is writing answers 409 (its offset is moving).
  auto appended = c.svc.AppendUpload(c.principal, id, start);
  if (appended.status().code() == StatusCode::kOutOfRange) {
    MR_ASSIGN_OR_RETURN(auto now, c.svc.GetUpload(c.principal, id));
    return out_of_range(now.offset);
  }
  MR_ASSIGN_OR_RETURN(auto appender, std::move(appended));
  Status write_st;
  bool ok = StreamBody(
      c,
      [&](const char* data, size_t n) {
        write_st = appender->Write(data, n);
        if (!write_st.ok()) return false;
        AddBytesReceived(n);
        return true;
      },
      [&] {
        auto space = appender->Space();
        if (!space.ok()) write_st = space.status();
        return space;
      },
      [&](size_t n) {
        write_st = appender->Commit(n);
        if (write_st.ok()) AddBytesReceived(n);
        return write_st;
      });
  Status close_st = appender->Close();
  uint64_t offset = appender->offset();
  SetUploadSessionHeaders(c, id, location, offset);
  if (!write_st.ok()) return write_st;
  if (!close_st.ok()) return close_st;
  if (!ok)
    return Status::InvalidArgument("request body was cut off; upload " + id + " kept " + std::to_string(offset) +
                                   " bytes, resume from there");
  if (expect_len && offset - start != *expect_len)
    return Status::InvalidArgument("chunk shorter than its Content-Range");
  return offset;
}

Result<FileDigest> FinishUploadBody(Ctx& c, const std::string& id, const std::string& location,
                                    const std::string& digest_param) {
  auto d = Digest::Parse(digest_param);
  if (!d.ok()) return d.status().WithContext("?digest=");
  MR_RETURN_IF_ERROR(AppendUploadBody(c, id, location).status());
  MR_ASSIGN_OR_RETURN(FileDigest fd, c.svc.FinishUpload(c.principal, id, *d));
  // The session is gone: its headers would be a second Location pointing at it.
  for (const char* h : {"Location", "Docker-Upload-UUID", "Upload-Offset", "Range"}) c.res.erase_header(h);
  return fd;
}

}  // namespace modelreg::api
