// Client::call (PROTOCOL §4.4): open, header + args, read the response header and first value.
// A plain response is read in full before CLOSE so no peer bytes stay in flight (§6).
#include "qtalk/rpc/client.hpp"

namespace qtalk::rpc {

Task<CallResult<Response>> Client::call(std::string selector, nlohmann::json args, CallOptions opts) {
    auto bytes = encode(codec_, args);
    co_return co_await call_encoded(std::move(selector), bytes, opts);
}

Task<CallResult<Response>> Client::call_encoded(std::string selector, std::span<const std::byte> args,
                                                CallOptions opts) {
    auto fail = [](std::error_code ec) { return CallError{ec, {}}; };
    if (!session_) co_return fail(make_error_code(mux::Errc::session_closed));
    auto ch = co_await session_->open();
    if (!ch) co_return fail(ch.error());
    Pipe pipe(std::move(*ch), codec_);
    auto& c = pipe.channel();
    // Header and arguments go out back to back, without waiting (§4.4 step 1).
    if (auto r = co_await write_frame(c, encode_call_header(codec_, selector)); !r) {
        c.close();
        co_return fail(r.error());
    }
    if (auto r = co_await write_frame(c, args); !r) {
        c.close();
        co_return fail(r.error());
    }
    auto hframe = co_await read_frame(c, opts.max_frame);
    if (!hframe || !*hframe) {
        c.close();
        co_return fail(hframe ? make_error_code(Errc::closed) : hframe.error());
    }
    auto header = decode_response_header(codec_, **hframe);
    if (!header) {
        c.close();
        co_return fail(header.error());
    }
    auto vframe = co_await read_frame(c, opts.max_frame);
    if (header->error) {
        c.close();  // after the `null` value frame (read above) so nothing stays in flight
        co_return CallError{make_error_code(Errc::remote_error), *header->error};
    }
    if (!vframe || !*vframe) {
        c.close();
        co_return fail(vframe ? make_error_code(Errc::closed) : vframe.error());
    }
    Response resp;
    auto value = decode(codec_, **vframe);
    if (!value) {
        c.close();
        co_return fail(value.error());
    }
    resp.value = std::move(*value);
    resp.encoded = std::move(**vframe);
    resp.continued = header->continue_;
    if (resp.continued)
        resp.pipe = std::move(pipe);
    else
        c.close();
    co_return resp;
}

}  // namespace qtalk::rpc
