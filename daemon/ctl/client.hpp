// qtalkctl's blocking view of one hub session: dial, unary calls, streamed calls, each run on
// a private io_context and bounded by the --timeout deadline. Failures become ctl::Failure
// (message + exit code) for main to print; formatting and commands are main's and format's.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "qtalk/rpc/peer.hpp"

namespace qtalkd::ctl {
namespace rpc = qtalk::rpc;

// Exit codes (systemctl-like): see main.cpp's usage text.
enum Exit : int { exit_ok = 0, exit_failed = 1, exit_usage = 2, exit_unreachable = 3, exit_denied = 4 };

class Failure : public std::runtime_error {
public:
    Failure(int code, const std::string& msg, std::string hint = {})
        : std::runtime_error(msg), code_(code), hint_(std::move(hint)) {}
    int code() const { return code_; }
    const std::string& hint() const { return hint_; }

private:
    int code_;
    std::string hint_;
};

// PROTOCOL §5.8: $XDG_RUNTIME_DIR/qtalk/<name> for a non-root user with XDG_RUNTIME_DIR set,
// else /run/qtalk/<name>; as unix:// URLs. `path` (from --socket) becomes a unix URL.
std::string default_url(bool admin);
std::string socket_url(const std::string& path);

class Client {
public:
    // `timeout` bounds each step: dialing, a unary call, a stream's first response.
    Client(std::string url, std::chrono::milliseconds timeout, rpc::Codec codec = rpc::Codec::json);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Throws Failure: exit_unreachable (refused, no socket, timeout), exit_denied (EACCES),
    // exit_usage (bad URL).
    void connect();
    // One call; a continued response is closed after its first value.
    nlohmann::json call(const std::string& selector, const nlohmann::json& arg);
    // Hands the first value and then every streamed value to `on_value` until end of stream.
    // SIGINT/SIGTERM end the stream (CLOSE on its channel) instead of killing the process, even
    // when inherited as ignored (background jobs). The timeout bounds the first response only.
    struct StreamEnd {
        int interrupted = 0;          // the signal (SIGINT/SIGTERM) that ended the stream
        bool continued = false;       // the response was a stream at all
        std::optional<std::string> error;  // the session or channel failed mid-stream
    };
    StreamEnd stream(const std::string& selector, const nlohmann::json& arg,
                     const std::function<void(const nlohmann::json&)>& on_value);

    const std::string& url() const { return url_; }

private:
    // Runs `task` on io_ until it completes (or the timeout passes, if bounded: the client is
    // then dead, because the abandoned coroutine may still refer to the caller's locals).
    void run(std::function<rpc::Task<void>()> task, bool bounded, const char* what);
    [[noreturn]] void fail_call(const rpc::CallError& e) const;

    boost::asio::io_context io_{1};  // first: destroyed last, after the peer it drives
    std::string url_;
    std::chrono::milliseconds timeout_;
    rpc::Codec codec_;
    bool dead_ = false;
    std::unique_ptr<rpc::Peer> peer_;
};

}  // namespace qtalkd::ctl
