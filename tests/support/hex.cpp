#include "support/hex.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace qtalk::test {

std::vector<std::byte> hex(std::string_view text) {
    std::vector<std::byte> out;
    int hi = -1;
    for (char c : text) {
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else continue;
        if (hi < 0) hi = v;
        else { out.push_back(std::byte(hi << 4 | v)); hi = -1; }
    }
    if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto b : bytes) {
        s += digits[std::to_integer<int>(b) >> 4];
        s += digits[std::to_integer<int>(b) & 15];
    }
    return s;
}

std::vector<std::byte> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) out[i] = std::byte(raw[i]);
    return out;
}

std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> out(s.size());
    for (size_t i = 0; i < s.size(); ++i) out[i] = std::byte(s[i]);
    return out;
}

std::string string_of(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string vector_path(std::string_view name) {
    return std::string(QTALK_VECTORS_DIR) + "/" + std::string(name);
}

}  // namespace qtalk::test
