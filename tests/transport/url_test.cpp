// Transport URL parsing (PROTOCOL §3 URL conventions).
#include <gtest/gtest.h>

#include "qtalk/transport/url.hpp"

using namespace qtalk::transport;

TEST(TransportUrl, ParsesEveryScheme) {
    auto t = parse_url("tcp://127.0.0.1:7420");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->scheme, Scheme::tcp);
    EXPECT_EQ(t->host, "127.0.0.1");
    EXPECT_EQ(t->port, 7420);
    auto v6 = parse_url("tcp://[::1]:80");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->to_string(), "tcp://[::1]:80");
    auto u = parse_url("unix:///run/qtalk/qtalkd.sock");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->scheme, Scheme::unix_socket);
    EXPECT_EQ(u->path, "/run/qtalk/qtalkd.sock");
    EXPECT_EQ(parse_url("stdio:")->scheme, Scheme::stdio);
    auto w = parse_url("ws://localhost:7421");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->path, "/");
    EXPECT_EQ(parse_url("ws://h:1/a/b")->path, "/a/b");
}

TEST(TransportUrl, RejectsBadUrlsWithClearErrors) {
    for (auto bad : {"", "tcp://", "tcp://host", "tcp://host:", "tcp://host:99999", "tcp://host:12x", "tcp://::1:80",
                     "unix://relative/path", "unix://", "ws://:80", "nonsense"})
        EXPECT_EQ(parse_url(bad).error(), make_error_code(Errc::bad_url)) << bad;
    EXPECT_EQ(parse_url("http://x:1").error(), make_error_code(Errc::unsupported_scheme));
    EXPECT_EQ(make_error_code(Errc::bad_url).message(), "invalid transport URL");
}
