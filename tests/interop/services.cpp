// InteropService and CallbackService (PROTOCOL §4.10).
#include "interop/services.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace qtalk::interop {
using rpc::Call;
using rpc::Pipe;
using rpc::Responder;
using rpc::Task;

namespace {

// Copies value frames from `from` to `to` unchanged until end of stream, then EOF on `to`.
Task<void> pump_frames(Pipe from, Pipe to, bool eof_at_end) {
    for (;;) {
        auto f = co_await from.receive_encoded();
        if (!f || !*f) break;
        if (!co_await to.send_encoded(**f)) break;
    }
    if (eof_at_end) (void)co_await to.close_write();
}

Task<void> pump_bytes(Pipe from, Pipe to, bool eof_at_end) {
    std::vector<std::byte> buf(32 * 1024);
    for (;;) {
        auto n = co_await from.read_some(buf);
        if (!n || *n == 0) break;
        if (!co_await to.write(std::span(buf).first(*n))) break;
    }
    if (eof_at_end) (void)co_await to.close_write();
}

std::string callback_selector(const Call& c, const std::string& prefix) {
    if (prefix.empty()) return c.raw_selector;
    return prefix + "." + c.selector.substr(c.selector.rfind('/') + 1);
}

// Stream/Bytes relay: call back the same method, answer with its value, then pump both ways.
Task<void> relay(Responder& r, Call& c, bool bytes, std::string callback_sel) {
    auto cb = co_await c.caller.call_encoded(callback_sel, c.encoded_args);
    if (!cb) {
        (void)co_await r.error(cb.error().to_string());
        co_return;
    }
    if (!cb->continued) {
        (void)co_await r.reply_encoded(cb->encoded);
        co_return;
    }
    auto out = co_await r.continue_encoded(cb->encoded);
    if (!out) co_return;
    Pipe caller = **out, callback = cb->pipe;
    // Caller -> callback runs on its own; the call ends when the callback channel ends (§4.10),
    // and closing then also ends that pump.
    auto up = bytes ? pump_bytes(caller, callback, true) : pump_frames(caller, callback, true);
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, std::move(up), boost::asio::detached);
    if (bytes)
        co_await pump_bytes(callback, caller, false);
    else
        co_await pump_frames(callback, caller, false);
    callback.abort();
    // Returning ends the caller's channel: EOF then CLOSE (responder).
}

}  // namespace

std::shared_ptr<rpc::RespondMux> interop_service(std::string prefix) {
    auto m = std::make_shared<rpc::RespondMux>();
    m->handle("Unary", [prefix](Responder& r, Call& c) -> Task<void> {
        auto cb = co_await c.caller.call_encoded(callback_selector(c, prefix), c.encoded_args);
        if (!cb)
            (void)co_await r.error(cb.error().to_string());
        else
            (void)co_await r.reply_encoded(cb->encoded);
    });
    m->handle("Error", [](Responder& r, Call& c) -> Task<void> {
        std::string text = c.args.is_string() ? c.args.get<std::string>() : c.args.dump();
        (void)co_await r.error(std::move(text));
    });
    m->handle("Stream", [prefix](Responder& r, Call& c) -> Task<void> {
        co_await relay(r, c, false, callback_selector(c, prefix));
    });
    m->handle("Bytes", [prefix](Responder& r, Call& c) -> Task<void> {
        co_await relay(r, c, true, callback_selector(c, prefix));
    });
    return m;
}

std::shared_ptr<rpc::RespondMux> callback_service() {
    auto m = std::make_shared<rpc::RespondMux>();
    m->handle("Unary", [](Responder& r, Call& c) -> Task<void> { (void)co_await r.reply_encoded(c.encoded_args); });
    m->handle("Stream", [](Responder& r, Call& c) -> Task<void> {
        auto p = co_await r.continue_encoded(c.encoded_args);
        if (!p) co_return;
        for (;;) {
            auto f = co_await (*p)->receive_encoded();
            if (!f || !*f) break;
            if (!co_await (*p)->send_encoded(**f)) break;
        }
        (*p)->abort();  // CLOSE without EOF, as the reference checker does
    });
    m->handle("Bytes", [](Responder& r, Call& c) -> Task<void> {
        auto p = co_await r.continue_encoded(c.encoded_args);
        if (!p) co_return;
        std::vector<std::byte> buf(32 * 1024);
        for (;;) {
            auto n = co_await (*p)->read_some(buf);
            if (!n || *n == 0) break;
            if (!co_await (*p)->write(std::span(buf).first(*n))) break;
        }
        (*p)->abort();
    });
    return m;
}

}  // namespace qtalk::interop
