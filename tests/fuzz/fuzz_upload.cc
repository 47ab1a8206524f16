// Fuzz target: the upload protocol's byte formats as a client sends them
// (core/upload_framing.h): a PATCH's Content-Range, and a batch upload body.
// The first input byte picks a piece size; the body is fed whole and in
// pieces of that size. Invariants: no crash; a Content-Range that parses
// prints back to a range that parses the same; the events and the outcome do
// not depend on how the body was cut; each blob gets exactly its declared
// number of bytes between its begin and its end.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/upload_framing.h"

using namespace modelreg;

namespace {

struct Trace {
  std::vector<std::string> events;
  uint64_t expect = 0, got = 0;
  bool open = false;
  BatchFrameParser::Events Events() {
    return {[this](const Digest& d, uint64_t size) {
              if (open) abort();
              open = true;
              expect = size;
              got = 0;
              events.push_back("b " + d.str() + " " + std::to_string(size));
              return Status::OK();
            },
            [this](const char* p, size_t n) {
              if (!open || n == 0 || got + n > expect) abort();
              got += n;
              if (events.back()[0] != 'w') events.push_back("w");
              events.back().append(p, n);
              return Status::OK();
            },
            [this] {
              if (!open || got != expect) abort();
              open = false;
              events.push_back("e");
              return Status::OK();
            }};
  }
};

std::string Run(std::string_view body, size_t piece, Trace* t) {
  BatchFrameParser p(t->Events(), 50);
  Status st;
  for (size_t off = 0; off < body.size() && st.ok(); off += piece)
    st = p.Feed(body.data() + off, std::min(piece, body.size() - off));
  if (st.ok()) st = p.Finish();
  return st.ToString() + " count=" + std::to_string(p.count());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 97;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (auto r = ParseContentRange(in); r.ok()) {
    auto again = ParseContentRange(std::to_string(r->first) + "-" + std::to_string(r->second));
    if (!again.ok() || *again != *r || r->second < r->first) abort();
  }

  Trace whole, cut;
  const std::string a = Run(in, in.size() + 1, &whole);
  const std::string b = Run(in, piece, &cut);
  if (a != b || whole.events != cut.events) abort();
  return 0;
}
