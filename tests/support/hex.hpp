// Test helpers: hex <-> bytes, reading whole files.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qtalk::test {

// "68 00000003 0002" -> bytes; spaces ignored.
std::vector<std::byte> hex(std::string_view text);
std::string to_hex(std::span<const std::byte> bytes);
std::vector<std::byte> read_file(const std::string& path);
std::vector<std::byte> bytes_of(std::string_view s);
std::string string_of(std::span<const std::byte> b);
// Path of a file under tests/vectors.
std::string vector_path(std::string_view name);

}  // namespace qtalk::test
