// qtalkctl's blocking client: each step is a coroutine co_spawned on the client's own
// io_context and run until it completes or the timeout passes. Maps dial and call errors to
// Failure with qtalkctl's exit codes (client.hpp).
#include "ctl/client.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>

namespace qtalkd::ctl {
namespace net = boost::asio;
using nlohmann::json;

namespace {
std::string runtime_dir() {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg && ::geteuid() != 0) return std::string(xdg) + "/qtalk";
    return "/run/qtalk";
}

std::string seconds(std::chrono::milliseconds d) {
    auto s = std::to_string(d.count() / 1000.0);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s + "s";
}

[[noreturn]] void fail_dial(const std::string& url, std::error_code ec) {
    auto msg = "cannot connect to " + url + ": " + ec.message();
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted)
        throw Failure(exit_denied, msg, "the admin socket needs root or the qtalk group");
    if (ec == qtalk::transport::Errc::bad_url || ec == qtalk::transport::Errc::unsupported_scheme)
        throw Failure(exit_usage, msg);
    throw Failure(exit_unreachable, msg + " (is qtalkd running?)");
}
}  // namespace

std::string default_url(bool admin) { return socket_url(runtime_dir() + (admin ? "/admin.sock" : "/qtalkd.sock")); }

std::string socket_url(const std::string& path) {
    if (path.empty()) throw Failure(exit_usage, "--socket: empty path");
    return "unix://" + std::filesystem::absolute(path).lexically_normal().string();
}

Client::Client(std::string url, std::chrono::milliseconds timeout, rpc::Codec codec)
    : url_(std::move(url)), timeout_(timeout), codec_(codec) {}

Client::~Client() {
    if (!peer_) return;
    peer_->close();
    // Let the session wind down (its loops end on close) unless an abandoned step could
    // resume and touch a caller's dead locals.
    if (!dead_) {
        io_.restart();
        io_.run_for(std::chrono::milliseconds(200));
    }
}

void Client::run(std::function<rpc::Task<void>()> task, bool bounded, const char* what) {
    if (dead_) throw Failure(exit_failed, "client used after a timeout");
    auto done = std::make_shared<bool>(false);
    auto error = std::make_shared<std::exception_ptr>();
    net::co_spawn(io_, std::move(task), [this, done, error](std::exception_ptr e) {
        *done = true;
        *error = e;
        io_.stop();
    });
    io_.restart();
    if (bounded)
        io_.run_for(timeout_);
    else
        io_.run();
    if (*error) std::rethrow_exception(*error);
    if (*done) return;
    dead_ = true;
    if (peer_) peer_->close();
    throw Failure(peer_ ? exit_failed : exit_unreachable, std::string("timed out after ") + seconds(timeout_) + " " + what);
}

void Client::connect() {
    std::error_code ec;
    run([this, &ec]() -> rpc::Task<void> {
        auto p = co_await rpc::Peer::dial(url_, codec_);
        if (!p)
            ec = p.error();
        else
            peer_ = std::make_unique<rpc::Peer>(std::move(*p));
    }, true, ("connecting to " + url_).c_str());
    if (ec) fail_dial(url_, ec);
}

void Client::fail_call(const rpc::CallError& e) const {
    if (e.code == rpc::Errc::remote_error) {
        if (e.remote == "permission denied")  // PROTOCOL §5.6: admin methods off the admin socket
            throw Failure(exit_denied, "remote: permission denied", "use the admin socket (root or the qtalk group)");
        throw Failure(exit_failed, "remote: " + e.remote);
    }
    // The hub relays bytes without re-encoding (PROTOCOL §5.4): a provider speaking the other
    // codec answers in bytes we cannot decode.
    if (e.code == rpc::Errc::decode_failed || e.code == rpc::Errc::invalid_header)
        throw Failure(exit_failed, "call failed: " + e.code.message(),
                      std::string("the provider may not speak ") + rpc::codec_name(codec_) + "; try --codec " +
                          (codec_ == rpc::Codec::json ? "cbor" : "json"));
    throw Failure(exit_failed, "call failed: " + e.code.message());
}

json Client::call(const std::string& selector, const json& arg) {
    std::optional<rpc::CallResult<rpc::Response>> r;
    run([&]() -> rpc::Task<void> {
        auto res = co_await peer_->call(selector, arg);
        if (res && res->continued) co_await res->pipe.close();
        r.emplace(std::move(res));
    }, true, ("waiting for " + selector).c_str());
    if (!*r) fail_call(r->error());
    return std::move((*r)->value);
}

Client::StreamEnd Client::stream(const std::string& selector, const json& arg,
                                 const std::function<void(const json&)>& on_value) {
    std::optional<rpc::CallResult<rpc::Response>> first;
    run([&]() -> rpc::Task<void> { first.emplace(co_await peer_->call(selector, arg)); }, true,
        ("waiting for " + selector).c_str());
    if (!*first) fail_call(first->error());
    StreamEnd end;
    end.continued = (*first)->continued;
    on_value((*first)->value);
    if (!end.continued) return end;

    rpc::Pipe pipe = std::move((*first)->pipe);
    // The handler may still run after this function returned (a signal caught just before the
    // set is destroyed, run in ~Client's wind-down), so it shares nothing with this frame.
    auto sig = std::make_shared<int>(0);
    net::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([sig, ch = pipe.channel()](boost::system::error_code ec, int s) mutable {
        if (ec) return;
        *sig = s;
        ch.close();  // the pending receive fails with channel_closed
    });
    run([&]() -> rpc::Task<void> {
        for (;;) {
            auto v = co_await pipe.receive();
            if (!v) {
                if (!*sig) end.error = v.error().message();
                break;
            }
            if (!*v) break;
            on_value(**v);
        }
        co_await pipe.close();
    }, false, "");
    end.interrupted = *sig;
    return end;
}

}  // namespace qtalkd::ctl
