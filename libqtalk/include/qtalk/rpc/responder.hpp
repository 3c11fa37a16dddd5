// The answering side of rpc (PROTOCOL §4.4, §4.5): serve() reads each inbound call's header and
// first argument frame, dispatches to a Handler and guarantees exactly one response.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "qtalk/rpc/client.hpp"
#include "qtalk/rpc/pipe.hpp"

namespace qtalk::rpc {

// An inbound call as the handler sees it.
struct Call {
    std::string selector;                 // normalised (PROTOCOL §4.6)
    std::string raw_selector;             // as the caller wrote it
    nlohmann::json args;                  // the first argument frame, decoded
    std::vector<std::byte> encoded_args;  // the same frame as it arrived
    Pipe pipe;                            // further argument frames / raw bytes from the caller
    Client caller;                        // calls back into the calling peer on the same session
};

// Writes the one response of a call. If the handler returns without responding, a plain
// `null` reply is sent; if it throws, an error reply with the exception's what().
class Responder {
public:
    explicit Responder(Pipe& pipe) : pipe_(pipe) {}
    // Plain reply: header(no error), the value, then CLOSE.
    Task<Result<void>> reply(const nlohmann::json& v);
    Task<Result<void>> reply_encoded(std::span<const std::byte> value);
    // Error reply: header(Error=msg), a `null` value, then CLOSE.
    Task<Result<void>> error(std::string message);
    // Continued reply: header(Continue=true) and the value; the channel stays open and the
    // handler owns it through the returned Pipe (closed with EOF+CLOSE when the handler ends).
    Task<Result<Pipe*>> continue_with(const nlohmann::json& v);
    Task<Result<Pipe*>> continue_encoded(std::span<const std::byte> value);

    bool responded() const { return responded_; }
    bool continued() const { return continued_; }

private:
    Task<Result<void>> respond(ResponseHeader h, std::span<const std::byte> value);
    Pipe& pipe_;
    bool responded_ = false, continued_ = false;
};

using Handler = std::function<Task<void>(Responder&, Call&)>;

struct ServeOptions {
    Codec codec = Codec::cbor;
    std::uint32_t max_header = 65536;     // call header frame limit
    std::uint32_t max_frame = default_max_frame;
};

// Serves every channel the peer opens on `session` with `handler`, each call in its own
// coroutine (so handlers may call back into the peer). Returns immediately.
void serve(const std::shared_ptr<mux::Session>& session, Handler handler, ServeOptions opts = {});

// Answers one call channel (what serve() does per channel).
Task<void> respond(mux::Channel ch, const Handler& handler, const ServeOptions& opts,
                   std::shared_ptr<mux::Session> session);

}  // namespace qtalk::rpc
