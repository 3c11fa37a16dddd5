// Answering calls (PROTOCOL §4.4, §4.5): header, first argument frame, dispatch, exactly one
// response. Malformed headers get an error reply and CLOSE (not the Go ref's silent abandon).
#include "qtalk/rpc/responder.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "qtalk/log.hpp"
#include "qtalk/rpc/selector.hpp"

namespace qtalk::rpc {

// Parameters by value: Asio awaitables start lazily, after the caller's temporaries are gone.
Task<Result<void>> Responder::respond(ResponseHeader h, std::span<const std::byte> value) {
    if (responded_) co_return Errc::protocol;
    responded_ = true;
    continued_ = h.continue_;
    auto& ch = pipe_.channel();
    if (auto r = co_await write_frame(ch, encode_response_header(pipe_.codec(), h)); !r) co_return r;
    auto r = co_await write_frame(ch, value);
    if (!h.continue_) ch.close();  // §4.4 step 4: CLOSE, no EOF
    co_return r;
}

Task<Result<void>> Responder::reply(const nlohmann::json& v) {
    auto bytes = encode(pipe_.codec(), v);
    ResponseHeader h{std::nullopt, false};
    co_return co_await respond(std::move(h), bytes);
}

Task<Result<void>> Responder::reply_encoded(std::span<const std::byte> value) {
    return respond(ResponseHeader{std::nullopt, false}, value);
}

Task<Result<void>> Responder::error(std::string message) {
    auto null = encode(pipe_.codec(), nullptr);
    ResponseHeader h{std::move(message), false};
    co_return co_await respond(std::move(h), null);
}

Task<Result<Pipe*>> Responder::continue_with(const nlohmann::json& v) {
    auto bytes = encode(pipe_.codec(), v);
    co_return co_await continue_encoded(bytes);
}

Task<Result<Pipe*>> Responder::continue_encoded(std::span<const std::byte> value) {
    ResponseHeader h{std::nullopt, true};
    auto r = co_await respond(std::move(h), value);
    if (!r) co_return r.error();
    co_return &pipe_;
}

namespace {
std::string header_error_text(std::error_code ec) {
    return ec == Errc::frame_too_large ? "call header too large" : "invalid call header";
}
}  // namespace

Task<void> respond(mux::Channel ch, const Handler& handler, const ServeOptions& opts,
                   std::shared_ptr<mux::Session> session) {
    auto log = qtalk::log::get("rpc");
    Pipe pipe(std::move(ch), opts.codec);
    Responder responder(pipe);
    auto& c = pipe.channel();

    auto hframe = co_await read_frame(c, opts.max_header);
    if (!hframe || !*hframe) {
        if (!hframe && hframe.error().category() == category()) {
            log->warn("bad call header session={} channel={} reason=\"{}\"", session->options().name, c.local_id(),
                      hframe.error().message());
            (void)co_await responder.error(header_error_text(hframe.error()));
        }
        c.close();
        co_return;
    }
    auto selector = decode_call_header(opts.codec, **hframe);
    // Read (and keep) the argument frame before any reply, so no caller bytes are left in
    // flight when we CLOSE (PROTOCOL §6, interoperating with Go peers, item 2).
    auto aframe = co_await read_frame(c, opts.max_frame);
    if (!selector) {
        log->warn("bad call header session={} channel={} reason=\"{}\"", session->options().name, c.local_id(),
                  selector.error().message());
        (void)co_await responder.error("invalid call header");
        co_return;
    }
    Call call;
    call.raw_selector = std::move(*selector);
    call.selector = normalize_selector(call.raw_selector);
    call.caller = Client(session, opts.codec);
    if (!aframe) {
        (void)co_await responder.error(aframe.error().message());
        co_return;
    }
    if (*aframe) {
        auto args = decode(opts.codec, **aframe);
        if (!args) {
            (void)co_await responder.error("invalid arguments: " + args.error().message());
            co_return;
        }
        call.args = std::move(*args);
        call.encoded_args = std::move(**aframe);
    }
    call.pipe = pipe;  // shares the channel handle
    std::string failure;
    try {
        co_await handler(responder, call);
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "handler failed";
    }
    if (!responder.responded()) {
        if (!failure.empty()) {
            log->warn("handler failed session={} selector={} reason=\"{}\"", session->options().name, call.selector,
                      failure);
            (void)co_await responder.error(failure);
        } else {
            (void)co_await responder.reply(nullptr);  // implicit null reply (§4.4)
        }
    } else if (responder.continued()) {
        co_await pipe.close();  // the handler owned the channel; it ends with EOF + CLOSE
    }
}

void serve(const std::shared_ptr<mux::Session>& session, Handler handler, ServeOptions opts) {
    auto h = std::make_shared<Handler>(std::move(handler));
    std::weak_ptr<mux::Session> weak = session;
    session->set_acceptor([h, opts, weak](mux::Channel ch) {
        auto s = weak.lock();
        if (!s) return;
        boost::asio::co_spawn(s->get_executor(), respond(std::move(ch), *h, opts, s),
                              [h](std::exception_ptr) {});  // keeps the handler alive
    });
}

}  // namespace qtalk::rpc
