// The part of a call's channel after the headers (PROTOCOL §4.1, §4.4): a sequence of framed
// codec values, raw bytes, or both in turn. Used by callers (continued responses) and by
// handlers (further argument frames, continued replies).
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "qtalk/mux/session.hpp"
#include "qtalk/rpc/codec.hpp"

namespace qtalk::rpc {

template <class T>
using Task = boost::asio::awaitable<T>;

// Frames above this are refused (the frame's declared length is checked before reading it).
inline constexpr std::uint32_t default_max_frame = 64u << 20;

// Reads one frame's value bytes (no length prefix). End of stream before the first byte ->
// nullopt; inside a frame -> Errc::closed; L = 0 -> Errc::empty_frame; L > max -> frame_too_large.
Task<Result<std::optional<std::vector<std::byte>>>> read_frame(mux::Channel& ch, std::uint32_t max = default_max_frame);
// Writes prefix + value in one channel write, so the frame normally travels in one DATA
// message (JS peers need that, PROTOCOL §6.13).
Task<Result<void>> write_frame(mux::Channel& ch, std::span<const std::byte> value);

class Pipe {
public:
    Pipe() = default;
    Pipe(mux::Channel ch, Codec codec) : ch_(std::move(ch)), codec_(codec) {}

    Codec codec() const { return codec_; }
    mux::Channel& channel() { return ch_; }
    explicit operator bool() const { return bool(ch_); }

    // Value frames.
    Task<Result<void>> send(const nlohmann::json& v);
    Task<Result<void>> send_encoded(std::span<const std::byte> value);  // already encoded in codec()
    // Next value; nullopt at end of stream.
    Task<Result<std::optional<nlohmann::json>>> receive();
    Task<Result<std::optional<std::vector<std::byte>>>> receive_encoded();

    // Raw bytes.
    Task<Result<std::size_t>> read_some(std::span<std::byte> buf) { return ch_.read_some(buf); }
    Task<Result<void>> write(std::span<const std::byte> data) { return ch_.write(data); }

    // Ends our direction (EOF); the other direction stays open.
    Task<Result<void>> close_write() { return ch_.close_write(); }
    // EOF (if not sent yet, PROTOCOL §6.13) then CLOSE.
    Task<void> close();
    void abort() { ch_.close(); }  // CLOSE only: cancellation

private:
    mux::Channel ch_;
    Codec codec_ = Codec::cbor;
};

}  // namespace qtalk::rpc
