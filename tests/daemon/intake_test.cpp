// Call intake (PROTOCOL §5.2): the parser over bytes fed in any split, and the hub over real
// sockets reading headers that arrive in pieces, oversized or cut short by the caller leaving.
#include <gtest/gtest.h>

#include "hub/intake.hpp"
#include "qtalk/frame/encoder.hpp"
#include "qtalk/rpc/codec.hpp"
#include "qtalk/rpc/pipe.hpp"
#include "support/hub_fixture.hpp"

using namespace qtalk;
using namespace qtalk::test;
using boost::asio::awaitable;
using boost::asio::io_context;
using nlohmann::json;

namespace {

std::vector<std::byte> framed(std::span<const std::byte> body) {
    std::vector<std::byte> out(4);
    frame::put_u32(out.data(), static_cast<std::uint32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// Feeds `bytes` to a parser `step` bytes at a time (as far as it wants them).
qtalkd::Intake parse(std::span<const std::byte> bytes, std::size_t step, std::uint32_t max_header = 1024) {
    qtalkd::IntakeParser p(max_header);
    std::size_t at = 0;
    while (!p.done() && at < bytes.size()) {
        auto want = p.want();
        auto n = std::min({want.size(), step, bytes.size() - at});
        std::memcpy(want.data(), bytes.data() + at, n);
        at += n;
        p.filled(n);
    }
    EXPECT_TRUE(p.done());
    return std::move(p.intake());
}

}  // namespace

TEST(HubIntake, HeadersInEitherCodecAreReadInAnySplit) {
    for (auto codec : {rpc::Codec::json, rpc::Codec::cbor}) {
        auto bytes = framed(rpc::encode_call_header(codec, "kv.Get"));
        for (std::size_t step : {1u, 2u, 3u, 5u, 1000u}) {
            auto in = parse(bytes, step);
            EXPECT_FALSE(in.error) << *in.error;
            EXPECT_EQ(in.codec, codec);
            EXPECT_EQ(in.selector, "kv.Get");
            EXPECT_EQ(in.normalized, "/kv/Get");
            EXPECT_EQ(in.header, bytes) << "kept verbatim, length prefix included";
        }
    }
}

TEST(HubIntake, EmptyOversizedAndUndecodableHeadersAreRefusedInTheSniffedCodec) {
    std::vector<std::byte> zero(4, std::byte{0});
    auto in = parse(zero, 1);
    EXPECT_EQ(in.error, "invalid call header");
    EXPECT_EQ(in.codec, rpc::Codec::cbor);

    auto big = framed(rpc::encode_call_header(rpc::Codec::json, std::string(2000, 'x')));
    in = parse(big, 7, 1024);
    EXPECT_EQ(in.error, "call header too large");
    EXPECT_EQ(in.codec, rpc::Codec::json) << "sniffed from the first header byte";
    EXPECT_EQ(in.header.size(), 5u) << "nothing read past the byte sniffed";

    const std::string junk = "{not json";
    auto bad = framed(std::as_bytes(std::span(junk.data(), junk.size())));
    in = parse(bad, 2);
    EXPECT_EQ(in.error, "invalid call header");
    EXPECT_EQ(in.codec, rpc::Codec::json);
}

namespace {
// A caller that writes a call by hand on a channel of its own session to the hub.
struct RawCaller {
    std::shared_ptr<mux::Session> session;
    mux::Channel ch;
};
awaitable<RawCaller> raw_caller(std::string url) {
    auto ex = co_await boost::asio::this_coro::executor;
    auto s = co_await transport::dial(ex, url);
    EXPECT_TRUE(s);
    RawCaller c;
    if (!s) co_return c;
    c.session = mux::Session::start(std::move(*s));
    auto ch = co_await c.session->open();
    EXPECT_TRUE(ch);
    if (ch) c.ch = *ch;
    co_return c;
}
}  // namespace

TEST(HubIntake, HeaderArrivingByteByByteIsRoutedAndTheCallAnswered) {
    run_async([](io_context& io) -> awaitable<void> {
        HubFixture f(io);
        auto echo = std::make_shared<rpc::RespondMux>();
        echo->handle("kv.get", [](rpc::Responder& r, rpc::Call& c) -> rpc::Task<void> { (void)co_await r.reply(c.args); });
        auto provider = co_await connect(f.unix_url, rpc::Codec::json, echo);
        const json kv = json{{"name", "kv"}};
        EXPECT_TRUE(co_await provider->call("qtalk.register", kv));
        auto c = co_await raw_caller(f.tcp_url);
        if (!c.ch) co_return;
        auto call = framed(rpc::encode_call_header(rpc::Codec::json, "kv.get"));
        auto args = framed(rpc::encode(rpc::Codec::json, json("hello")));
        call.insert(call.end(), args.begin(), args.end());
        for (auto b : call) {  // one DATA message per byte, each after the hub had a look
            EXPECT_TRUE(co_await c.ch.write(std::span(&b, 1)));
            co_await sleep_for(1ms);
        }
        auto header = co_await rpc::read_frame(c.ch);
        EXPECT_TRUE(header && *header);
        auto reply = co_await rpc::read_frame(c.ch);
        EXPECT_TRUE(reply && *reply);
        if (reply && *reply) EXPECT_EQ(*rpc::decode(rpc::Codec::json, **reply), json("hello"));
        EXPECT_TRUE(co_await eventually([&] { return f.hub->stats().calls_active == 0; }));
        EXPECT_EQ(f.hub->stats().calls_routed, 1u);
        c.session->close();
    });
}

TEST(HubIntake, CallerLeavingMidHeaderEndsTheCallAndOversizedHeadersGetAnError) {
    run_async([](io_context& io) -> awaitable<void> {
        qtalkd::HubOptions ho;
        ho.max_call_header = 128;
        HubFixture f(io, ho);
        auto c = co_await raw_caller(f.tcp_url);
        if (!c.ch) co_return;
        auto call = framed(rpc::encode_call_header(rpc::Codec::cbor, "kv.get"));
        EXPECT_TRUE(co_await c.ch.write(std::span(call).first(6)));  // length and two header bytes
        EXPECT_TRUE(co_await eventually([&] { return f.hub->stats().calls_active == 1; }));
        c.ch.close();  // gone before the header is whole
        EXPECT_TRUE(co_await eventually([&] { return f.hub->stats().calls_active == 0; }));
        EXPECT_TRUE(co_await eventually([&] { return c.session->stats().channels == 0; })) << "CLOSE answered";

        auto big = co_await c.session->open();
        EXPECT_TRUE(big);
        if (!big) co_return;
        auto huge = framed(rpc::encode_call_header(rpc::Codec::json, std::string(500, 'y')));
        EXPECT_TRUE(co_await big->write(huge));
        auto header = co_await rpc::read_frame(*big);
        EXPECT_TRUE(header && *header);
        if (header && *header) {
            auto h = rpc::decode_response_header(rpc::Codec::json, **header);
            EXPECT_TRUE(h && h->error && *h->error == "call header too large");
        }
        EXPECT_TRUE(co_await eventually([&] { return f.hub->stats().calls_active == 0; }));
        c.session->close();
    });
}
