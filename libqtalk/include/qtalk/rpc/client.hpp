// The calling side of rpc (PROTOCOL §4.4): one call = one channel; header + argument frame out,
// response header + value in; a continued response hands the channel over as a Pipe.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "qtalk/rpc/pipe.hpp"

namespace qtalk::rpc {

struct Response {
    nlohmann::json value;                 // the first value frame, decoded
    std::vector<std::byte> encoded;       // the same value as it arrived (relay it unchanged)
    bool continued = false;
    Pipe pipe;                            // the call's channel when continued, else empty
};

// A handler's error as received by the caller (`Error` in the response header).
class RemoteError : public std::runtime_error {
public:
    explicit RemoteError(const std::string& msg) : std::runtime_error("remote: " + msg), message_(msg) {}
    const std::string& message() const { return message_; }

private:
    std::string message_;
};

// A failed call: rpc::Errc::remote_error (message in `remote`) or a transport/mux/codec error.
struct CallError {
    std::error_code code;
    std::string remote;  // the Error text for remote_error
    std::string to_string() const { return code == Errc::remote_error ? "remote: " + remote : code.message(); }
};

template <class T>
class CallResult {  // Result<T> plus the remote error text
public:
    CallResult() : e_{make_error_code(Errc::closed), {}} {}           // (futures need a default)
    CallResult(T v) : v_(std::move(v)) {}                          // NOLINT
    CallResult(CallError e) : e_(std::move(e)) {}                   // NOLINT
    explicit operator bool() const { return v_.has_value(); }
    bool has_value() const { return v_.has_value(); }
    T& value() { return *v_; }
    T& operator*() { return *v_; }
    T* operator->() { return &*v_; }
    const CallError& error() const { return e_; }
    // Value or exception (RemoteError for handler errors, std::system_error otherwise).
    T& get() {
        if (v_) return *v_;
        if (e_.code == Errc::remote_error) throw RemoteError(e_.remote);
        throw std::system_error(e_.code);
    }

private:
    std::optional<T> v_;
    CallError e_;
};

struct CallOptions {
    std::uint32_t max_frame = default_max_frame;
};

class Client {
public:
    Client() = default;
    Client(std::shared_ptr<mux::Session> session, Codec codec) : session_(std::move(session)), codec_(codec) {}

    // Sends `selector` (un-normalised, as given) and one argument frame.
    // (Coroutines take no defaulted class-type parameters: GCC 12 may destroy such a default
    // twice. The short forms are plain functions forwarding to the full one.)
    Task<CallResult<Response>> call(std::string selector, nlohmann::json args, CallOptions opts);
    Task<CallResult<Response>> call(std::string selector, nlohmann::json args = nullptr) {
        return call(std::move(selector), std::move(args), CallOptions{});
    }
    // Same, with the argument frame already encoded in codec() (relaying). `args` must stay
    // valid until the call completes.
    Task<CallResult<Response>> call_encoded(std::string selector, std::span<const std::byte> args, CallOptions opts);
    Task<CallResult<Response>> call_encoded(std::string selector, std::span<const std::byte> args) {
        return call_encoded(std::move(selector), args, CallOptions{});
    }

    // Typed convenience via nlohmann to_json/from_json.
    template <class R, class A>
    Task<CallResult<R>> call_as(std::string selector, A args) {
        nlohmann::json j(args);
        auto r = co_await call(std::move(selector), std::move(j), CallOptions{});
        if (!r) co_return r.error();
        try {
            co_return r->value.template get<R>();
        } catch (const nlohmann::json::exception&) {
            co_return CallError{make_error_code(Errc::decode_failed), {}};
        }
    }

    Codec codec() const { return codec_; }
    const std::shared_ptr<mux::Session>& session() const { return session_; }

private:
    std::shared_ptr<mux::Session> session_;
    Codec codec_ = Codec::cbor;
};

}  // namespace qtalk::rpc
