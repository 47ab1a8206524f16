#include "net/cidr.h"

#include <arpa/inet.h>

#include <cstring>

namespace modelreg::net {

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// Parses an address into 16 bytes; v4 in the first 4.
bool ParseAddr(const std::string& ip, bool* v6, std::array<uint8_t, 16>* out) {
  out->fill(0);
  in_addr a4{};
  if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) {
    *v6 = false;
    std::memcpy(out->data(), &a4, 4);
    return true;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, ip.c_str(), &a6) == 1) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(&a6, kMapped, 12) == 0) {  // ::ffff:a.b.c.d is IPv4
      *v6 = false;
      std::memcpy(out->data(), reinterpret_cast<const uint8_t*>(&a6) + 12, 4);
      return true;
    }
    *v6 = true;
    std::memcpy(out->data(), &a6, 16);
    return true;
  }
  return false;
}

bool PrefixEqual(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

Result<std::vector<Cidr>> ParseCidrList(const std::string& text) {
  std::vector<Cidr> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string entry = Trim(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (entry.empty()) {
      if (text.find_first_not_of(" ,") == std::string::npos) break;  // empty list
      return Status::InvalidArgument("'" + text + "': an empty entry in the address list");
    }
    Cidr c;
    std::string ip = entry;
    int prefix = -1;
    if (size_t slash = entry.find('/'); slash != std::string::npos) {
      ip = entry.substr(0, slash);
      std::string bits = entry.substr(slash + 1);
      if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos)
        return Status::InvalidArgument("'" + entry + "': the prefix length must be a number of bits");
      prefix = std::stoi(bits);
    }
    if (!ParseAddr(ip, &c.v6, &c.addr))
      return Status::InvalidArgument("'" + entry + "': not an IPv4 or IPv6 address (want e.g. 10.0.0.0/8 or ::1/128)");
    const int max_bits = c.v6 ? 128 : 32;
    if (prefix < 0) prefix = max_bits;
    if (prefix > max_bits)
      return Status::InvalidArgument("'" + entry + "': prefix longer than " + std::to_string(max_bits) + " bits");
    c.prefix = prefix;
    out.push_back(c);
  }
  return out;
}

bool CidrMatch(const std::vector<Cidr>& ranges, const std::string& ip) {
  bool v6 = false;
  std::array<uint8_t, 16> a{};
  if (!ParseAddr(ip, &v6, &a)) return false;
  for (const auto& r : ranges)
    if (r.v6 == v6 && PrefixEqual(a, r.addr, r.prefix)) return true;
  return false;
}

}  // namespace modelreg::net
