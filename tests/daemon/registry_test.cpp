// HubRegistry: the pure service registry of PROTOCOL §5.3–§5.5 (names, exclusive owner + FIFO
// failover, shared round-robin groups, routing by longest name) checked through the records its
// changes return. No sockets: the hub that publishes the events is tested in hub_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "hub/errors.hpp"
#include "hub/registry.hpp"

namespace qtalkd {
namespace {

ServiceEvent up(std::string n) { return {ServiceEvent::up, std::move(n)}; }
ServiceEvent down(std::string n) { return {ServiceEvent::down, std::move(n)}; }

// Provider picked for `n` consecutive calls of `sel`.
std::vector<SessionId> picks(Registry& r, std::string_view sel, int n) {
    std::vector<SessionId> out;
    for (int i = 0; i < n; ++i) {
        auto route = r.route(sel);
        if (!route) return out;
        out.push_back(route->provider);
    }
    return out;
}

ServiceDetail detail(const Registry& r, std::string_view name) {
    for (auto& d : r.details())
        if (d.name == name) return d;
    ADD_FAILURE() << "no detail for " << name;
    return {};
}

TEST(HubRegistry, NormalizeNameFollowsSelectorRules) {
    EXPECT_EQ(normalize_name(""), "/");
    EXPECT_EQ(normalize_name("clock"), "/clock");
    EXPECT_EQ(normalize_name("/clock"), "/clock");
    EXPECT_EQ(normalize_name("a.b"), "/a/b");
    EXPECT_EQ(normalize_name("a.b.c"), "/a/b/c");  // every '.', unlike the JS ref
    EXPECT_EQ(normalize_name("/a.b"), "/a/b");
    EXPECT_EQ(normalize_name("foo."), "/foo/");  // no trimming
    EXPECT_EQ(normalize_name(".x"), "//x");      // no collapsing
    EXPECT_EQ(normalize_name("Clock"), "/Clock");
}

TEST(HubRegistry, CheckNameAcceptsValidNames) {
    EXPECT_EQ(check_name("/x"), NameCheck::ok);
    EXPECT_EQ(check_name("/a/b/c"), NameCheck::ok);
    EXPECT_EQ(check_name("/" + std::string(255, 'n')), NameCheck::ok);  // 256 bytes
    EXPECT_EQ(check_name("/h\xc3\xa9llo"), NameCheck::ok);              // UTF-8 bytes are > 0x7f
    EXPECT_EQ(check_name("/qtalkd"), NameCheck::ok);
    EXPECT_EQ(check_name("/QTALK"), NameCheck::ok);  // case preserved, reserved is exact
    EXPECT_EQ(check_name("/a/qtalk"), NameCheck::ok);
}

TEST(HubRegistry, CheckNameRejectsInvalidNames) {
    EXPECT_EQ(check_name(""), NameCheck::invalid);
    EXPECT_EQ(check_name("/"), NameCheck::invalid);                        // too short
    EXPECT_EQ(check_name("/" + std::string(256, 'n')), NameCheck::invalid);  // 257 bytes
    EXPECT_EQ(check_name("x"), NameCheck::invalid);                        // not normalised
    EXPECT_EQ(check_name("xy"), NameCheck::invalid);
    EXPECT_EQ(check_name("//"), NameCheck::invalid);
    EXPECT_EQ(check_name("//x"), NameCheck::invalid);
    EXPECT_EQ(check_name("/a//b"), NameCheck::invalid);
    EXPECT_EQ(check_name("/a/"), NameCheck::invalid);  // trailing '/' = empty last segment
    EXPECT_EQ(check_name("/a b"), NameCheck::invalid);
    EXPECT_EQ(check_name("/a\x7f"), NameCheck::invalid);
    EXPECT_EQ(check_name("/a\t"), NameCheck::invalid);
    EXPECT_EQ(check_name("/a\nb"), NameCheck::invalid);
    EXPECT_EQ(check_name("/\x01x"), NameCheck::invalid);
    EXPECT_EQ(check_name(std::string_view("/a\0b", 4)), NameCheck::invalid);
}

TEST(HubRegistry, CheckNameFlagsReservedNamespace) {
    EXPECT_EQ(check_name("/qtalk"), NameCheck::reserved);
    EXPECT_EQ(check_name("/qtalk/x"), NameCheck::reserved);
    EXPECT_EQ(check_name("/qtalk/admin/kick"), NameCheck::reserved);
    EXPECT_EQ(check_name("/qtalk/"), NameCheck::invalid);  // validity is checked first
}

TEST(HubRegistry, RegisterNormalizesNameAndEmitsUp) {
    Registry r;
    auto out = r.register_service(1, "clock", false);
    EXPECT_FALSE(out.error);
    EXPECT_EQ(out.name, "/clock");
    EXPECT_TRUE(out.owner);
    EXPECT_EQ(out.event, up("/clock"));

    auto dotted = r.register_service(1, "a.b", false);
    EXPECT_EQ(dotted.name, "/a/b");
    EXPECT_EQ(dotted.event, up("/a/b"));
    EXPECT_EQ(r.size(), 2u);
    EXPECT_EQ(r.names_of(1), (std::vector<std::string>{"/a/b", "/clock"}));
}

TEST(HubRegistry, RegisterInvalidNameReportsNameAsGiven) {
    Registry r;
    for (std::string given : {std::string(""), std::string("/"), std::string("a..b"), std::string("foo."),
                              std::string("a b"), std::string("x\x7f"), std::string("x\x1f"),
                              std::string(257, 'n'), std::string("/") + std::string(256, 'n')}) {
        auto out = r.register_service(1, given, false);
        EXPECT_EQ(out.error, invalid_service_name(given)) << given;
        EXPECT_FALSE(out.owner);
        EXPECT_FALSE(out.event);
    }
    EXPECT_EQ(r.register_service(1, "a..b", false).error, "invalid service name: a..b");
    EXPECT_EQ(r.size(), 0u);
    EXPECT_TRUE(r.names_of(1).empty());
    EXPECT_TRUE(r.drop_session(1).empty());
}

TEST(HubRegistry, RegisterLongestValidNameSucceeds) {
    Registry r;
    auto out = r.register_service(1, std::string(255, 'n'), false);  // 256 after the '/'
    EXPECT_FALSE(out.error);
    EXPECT_EQ(out.name.size(), 256u);
}

TEST(HubRegistry, RegisterReservedNameReportsNormalizedName) {
    Registry r;
    EXPECT_EQ(r.register_service(1, "qtalk", false).error, "reserved service name: /qtalk");
    EXPECT_EQ(r.register_service(1, "qtalk.x", true).error, "reserved service name: /qtalk/x");
    EXPECT_EQ(r.register_service(1, "/qtalk/admin", false).error, "reserved service name: /qtalk/admin");
    EXPECT_EQ(r.size(), 0u);
}

TEST(HubRegistry, ExclusiveLaterRegistrantsQueueInOrder) {
    Registry r;
    EXPECT_TRUE(r.register_service(1, "kv", false).owner);
    auto second = r.register_service(2, "kv", false);
    auto third = r.register_service(3, "/kv", false);
    EXPECT_FALSE(second.error);
    EXPECT_FALSE(second.owner);
    EXPECT_FALSE(second.event);  // only the 0 -> 1 transition is an event
    EXPECT_FALSE(third.owner);
    EXPECT_FALSE(third.event);
    EXPECT_EQ(r.services(), (std::vector<ServiceSummary>{{"/kv", 3, false}}));
    EXPECT_EQ(detail(r, "/kv").owner, SessionId{1});
    EXPECT_EQ(detail(r, "/kv").sessions, (std::vector<SessionId>{1, 2, 3}));
    EXPECT_EQ(picks(r, "/kv", 3), (std::vector<SessionId>{1, 1, 1}));  // always the owner
}

TEST(HubRegistry, SameModeReRegisterIsIdempotent) {
    Registry r;
    r.register_service(1, "kv", false);
    r.register_service(2, "kv", false);
    r.register_service(3, "kv", false);

    auto owner_again = r.register_service(1, "kv", false);
    EXPECT_FALSE(owner_again.error);
    EXPECT_TRUE(owner_again.owner);
    EXPECT_FALSE(owner_again.event);
    auto queued_again = r.register_service(2, "kv", false);
    EXPECT_FALSE(queued_again.error);
    EXPECT_FALSE(queued_again.owner);  // current status, place in the queue kept
    EXPECT_EQ(detail(r, "/kv").sessions, (std::vector<SessionId>{1, 2, 3}));

    r.register_service(1, "group", true);
    r.register_service(2, "group", true);
    auto shared_again = r.register_service(1, "group", true);
    EXPECT_TRUE(shared_again.owner);
    EXPECT_FALSE(shared_again.event);
    EXPECT_EQ(detail(r, "/group").sessions, (std::vector<SessionId>{1, 2}));
    EXPECT_EQ(r.names_of(1), (std::vector<std::string>{"/group", "/kv"}));
}

TEST(HubRegistry, ExclusiveOwnerUnregisteringPromotesHeadOfQueue) {
    Registry r;
    r.register_service(1, "kv", false);
    r.register_service(2, "kv", false);
    r.register_service(3, "kv", false);

    auto out = r.unregister_service(1, "kv");
    EXPECT_FALSE(out.error);
    EXPECT_EQ(out.name, "/kv");
    EXPECT_TRUE(out.removed);
    EXPECT_FALSE(out.event);  // failover emits nothing
    EXPECT_EQ(detail(r, "/kv").owner, SessionId{2});
    EXPECT_EQ(detail(r, "/kv").sessions, (std::vector<SessionId>{2, 3}));
    EXPECT_EQ(r.route("/kv")->provider, 2u);
    EXPECT_TRUE(r.register_service(2, "kv", false).owner);
    EXPECT_FALSE(r.register_service(3, "kv", false).owner);
    EXPECT_TRUE(r.names_of(1).empty());
}

TEST(HubRegistry, ExclusiveOwnerDroppedPromotesHeadOfQueue) {
    Registry r;
    r.register_service(1, "kv", false);
    r.register_service(2, "kv", false);
    r.register_service(3, "kv", false);

    EXPECT_TRUE(r.drop_session(1).empty());
    EXPECT_EQ(detail(r, "/kv").owner, SessionId{2});
    EXPECT_TRUE(r.drop_session(2).empty());
    EXPECT_EQ(detail(r, "/kv").owner, SessionId{3});
    EXPECT_EQ(r.route("/kv")->provider, 3u);
    EXPECT_EQ(r.drop_session(3), (std::vector<ServiceEvent>{down("/kv")}));
    EXPECT_EQ(r.size(), 0u);
    EXPECT_FALSE(r.route("/kv"));
}

TEST(HubRegistry, QueuedSessionLeavingKeepsOwner) {
    Registry r;
    r.register_service(1, "kv", false);
    r.register_service(2, "kv", false);
    r.register_service(3, "kv", false);

    auto out = r.unregister_service(2, "kv");
    EXPECT_TRUE(out.removed);
    EXPECT_FALSE(out.event);
    EXPECT_EQ(detail(r, "/kv").owner, SessionId{1});
    EXPECT_EQ(detail(r, "/kv").sessions, (std::vector<SessionId>{1, 3}));
    r.unregister_service(1, "kv");
    EXPECT_EQ(detail(r, "/kv").owner, SessionId{3});  // 2 left the queue, so 3 is next
}

TEST(HubRegistry, LastRegistrationLeavingEmitsDown) {
    Registry r;
    r.register_service(1, "kv", false);
    auto out = r.unregister_service(1, "kv");
    EXPECT_TRUE(out.removed);
    EXPECT_EQ(out.event, down("/kv"));
    EXPECT_EQ(r.size(), 0u);
    EXPECT_TRUE(r.services().empty());
    EXPECT_EQ(r.register_service(2, "kv", false).event, up("/kv"));  // 0 -> 1 again
}

TEST(HubRegistry, ExclusiveThenSharedIsModeConflict) {
    Registry r;
    r.register_service(1, "kv", false);
    auto other = r.register_service(2, "kv", true);
    EXPECT_EQ(other.error, "service mode conflict: /kv");
    EXPECT_FALSE(other.owner);
    EXPECT_EQ(r.register_service(1, "/kv", true).error, service_mode_conflict("/kv"));  // even the holder
    EXPECT_EQ(r.services(), (std::vector<ServiceSummary>{{"/kv", 1, false}}));
    EXPECT_TRUE(r.names_of(2).empty());
}

TEST(HubRegistry, SharedThenExclusiveIsModeConflict) {
    Registry r;
    r.register_service(1, "kv", true);
    r.register_service(2, "kv", true);
    EXPECT_EQ(r.register_service(3, "kv", false).error, "service mode conflict: /kv");
    EXPECT_EQ(r.register_service(1, "kv", false).error, "service mode conflict: /kv");
    EXPECT_EQ(r.services(), (std::vector<ServiceSummary>{{"/kv", 2, true}}));
    EXPECT_TRUE(r.names_of(3).empty());
}

TEST(HubRegistry, ModeForgottenAfterLastRegistrationLeaves) {
    Registry r;
    r.register_service(1, "kv", false);
    r.unregister_service(1, "kv");
    auto shared = r.register_service(2, "kv", true);
    EXPECT_FALSE(shared.error);
    EXPECT_EQ(shared.event, up("/kv"));

    EXPECT_EQ(r.drop_session(2), (std::vector<ServiceEvent>{down("/kv")}));
    auto exclusive = r.register_service(3, "kv", false);
    EXPECT_FALSE(exclusive.error);
    EXPECT_TRUE(exclusive.owner);
    EXPECT_EQ(r.services(), (std::vector<ServiceSummary>{{"/kv", 1, false}}));
}

TEST(HubRegistry, SharedGroupMembersAreAllOwnersWithoutEvents) {
    Registry r;
    EXPECT_EQ(r.register_service(1, "work", true).event, up("/work"));
    for (SessionId s : {2, 3}) {
        auto out = r.register_service(s, "work", true);
        EXPECT_FALSE(out.error);
        EXPECT_TRUE(out.owner);
        EXPECT_FALSE(out.event);  // group changes emit nothing
    }
    EXPECT_FALSE(r.unregister_service(2, "work").event);
    EXPECT_TRUE(r.drop_session(1).empty());
    EXPECT_EQ(r.services(), (std::vector<ServiceSummary>{{"/work", 1, true}}));
    EXPECT_EQ(r.unregister_service(3, "work").event, down("/work"));
}

TEST(HubRegistry, SharedRoundRobinIsFairOverManyCalls) {
    Registry r;
    for (SessionId s : {7, 3, 5}) r.register_service(s, "work", true);
    EXPECT_EQ(picks(r, "/work", 6), (std::vector<SessionId>{7, 3, 5, 7, 3, 5}));  // registration order

    std::map<SessionId, int> count;
    for (auto p : picks(r, "/work/sub", 3000)) ++count[p];
    EXPECT_EQ(count, (std::map<SessionId, int>{{3, 1000}, {5, 1000}, {7, 1000}}));
}

TEST(HubRegistry, SharedRoundRobinContinuesWhenMemberBeforeCursorLeaves) {
    Registry r;
    for (SessionId s : {1, 2, 3}) r.register_service(s, "work", true);
    EXPECT_EQ(picks(r, "/work", 2), (std::vector<SessionId>{1, 2}));
    r.unregister_service(1, "work");  // already served this cycle
    EXPECT_EQ(picks(r, "/work", 4), (std::vector<SessionId>{3, 2, 3, 2}));
}

TEST(HubRegistry, SharedRoundRobinContinuesWhenNextMemberLeaves) {
    Registry r;
    for (SessionId s : {1, 2, 3}) r.register_service(s, "work", true);
    EXPECT_EQ(picks(r, "/work", 1), (std::vector<SessionId>{1}));
    r.drop_session(2);  // was next
    EXPECT_EQ(picks(r, "/work", 4), (std::vector<SessionId>{3, 1, 3, 1}));
}

TEST(HubRegistry, SharedRoundRobinWrapsWhenLastMemberLeaves) {
    Registry r;
    for (SessionId s : {1, 2, 3}) r.register_service(s, "work", true);
    EXPECT_EQ(picks(r, "/work", 2), (std::vector<SessionId>{1, 2}));
    r.unregister_service(3, "work");  // was next, and last in order
    EXPECT_EQ(picks(r, "/work", 4), (std::vector<SessionId>{1, 2, 1, 2}));

    EXPECT_EQ(picks(r, "/work", 1), (std::vector<SessionId>{1}));
    r.unregister_service(2, "work");
    EXPECT_EQ(picks(r, "/work", 3), (std::vector<SessionId>{1, 1, 1}));
}

TEST(HubRegistry, SharedRoundRobinFairAfterMemberLeavesAndJoins) {
    Registry r;
    for (SessionId s : {1, 2, 3, 4}) r.register_service(s, "work", true);
    picks(r, "/work", 5);
    r.drop_session(3);
    r.register_service(5, "work", true);  // joins at the end of the cycle
    std::map<SessionId, int> count;
    for (auto p : picks(r, "/work", 400)) ++count[p];
    EXPECT_EQ(count, (std::map<SessionId, int>{{1, 100}, {2, 100}, {4, 100}, {5, 100}}));
}

TEST(HubRegistry, RouteMatchesLongestNameOnSegmentBoundary) {
    Registry r;
    r.register_service(1, "a", false);
    r.register_service(2, "a.b", false);
    r.register_service(3, "a.b.c.d", false);

    EXPECT_EQ(r.route("/a"), (Route{"/a", 1}));
    EXPECT_EQ(r.route("/a/b"), (Route{"/a/b", 2}));
    EXPECT_EQ(r.route("/a/b/c"), (Route{"/a/b", 2}));
    EXPECT_EQ(r.route("/a/b/c/d"), (Route{"/a/b/c/d", 3}));
    EXPECT_EQ(r.route("/a/b/c/d/e/f"), (Route{"/a/b/c/d", 3}));
    EXPECT_EQ(r.route("/a/bc"), (Route{"/a", 1}));  // not "/a/b": no segment boundary
    EXPECT_EQ(r.route("/a/b/"), (Route{"/a/b", 2}));
    EXPECT_EQ(r.route("/a//b"), (Route{"/a", 1}));
    EXPECT_FALSE(r.route("/ab"));
    EXPECT_FALSE(r.route("/A"));  // case preserved
}

TEST(HubRegistry, RouteWithoutMatchReturnsNothing) {
    Registry r;
    EXPECT_FALSE(r.route("/"));
    EXPECT_FALSE(r.route("/clock"));
    r.register_service(1, "clock", false);
    EXPECT_FALSE(r.route("/"));
    EXPECT_FALSE(r.route("//clock"));
    EXPECT_FALSE(r.route("/clocks"));
    EXPECT_FALSE(r.route("/x/clock"));
    EXPECT_EQ(detail(r, "/clock").calls, 0u);  // misses count nowhere
}

TEST(HubRegistry, ServicesSortedBytewiseWithCounts) {
    Registry r;
    r.register_service(1, "b", false);
    r.register_service(2, "b", false);
    r.register_service(1, "a.z", true);
    r.register_service(2, "a.z", true);
    r.register_service(3, "a.z", true);
    r.register_service(4, "a", false);
    r.register_service(5, "B", false);
    r.register_service(6, "a-", false);  // '-' (0x2d) sorts before '/' (0x2f)

    EXPECT_EQ(r.services(), (std::vector<ServiceSummary>{
                                {"/B", 1, false},
                                {"/a", 1, false},
                                {"/a-", 1, false},
                                {"/a/z", 3, true},
                                {"/b", 2, false},
                            }));
    EXPECT_EQ(r.size(), 5u);
}

TEST(HubRegistry, DetailsListOwnerQueueGroupOrderAndCalls) {
    Registry r;
    r.register_service(9, "kv", false);
    r.register_service(4, "kv", false);
    r.register_service(6, "work", true);
    r.register_service(2, "work", true);
    picks(r, "/kv/get", 3);
    picks(r, "/work", 5);
    r.route("/nothing");

    EXPECT_EQ(r.details(), (std::vector<ServiceDetail>{
                               {"/kv", false, SessionId{9}, {9, 4}, 3},
                               {"/work", true, std::nullopt, {6, 2}, 5},  // not rotated by the cursor
                           }));

    // Failover keeps the name and its counter; a name that disappears starts again from 0.
    r.drop_session(9);
    EXPECT_EQ(detail(r, "/kv"), (ServiceDetail{"/kv", false, SessionId{4}, {4}, 3}));
    r.drop_session(4);
    r.register_service(4, "kv", false);
    EXPECT_EQ(detail(r, "/kv").calls, 0u);
}

TEST(HubRegistry, UnregisterUnheldNameReportsNotRegistered) {
    Registry r;
    auto none = r.unregister_service(1, "a.b");
    EXPECT_EQ(none.error, "not registered: /a/b");
    EXPECT_EQ(none.name, "/a/b");
    EXPECT_FALSE(none.removed);
    EXPECT_FALSE(none.event);

    r.register_service(2, "a.b", false);
    r.register_service(3, "a.b", false);
    EXPECT_EQ(r.unregister_service(1, "/a/b").error, not_registered("/a/b"));  // held by others
    EXPECT_EQ(r.unregister_service(2, "a").error, not_registered("/a"));       // no prefix magic
    EXPECT_EQ(r.unregister_service(2, "").error, not_registered("/"));
    EXPECT_EQ(detail(r, "/a/b").sessions, (std::vector<SessionId>{2, 3}));

    EXPECT_TRUE(r.unregister_service(3, "a.b").removed);
    EXPECT_EQ(r.unregister_service(3, "a.b").error, not_registered("/a/b"));  // not twice
}

TEST(HubRegistry, DropSessionRemovesEverythingAndEmitsDownSortedByName) {
    Registry r;
    for (auto n : {"zeta", "alpha", "mid.x", "kept"}) r.register_service(1, n, false);
    r.register_service(2, "kept", false);
    r.register_service(1, "group", true);
    r.register_service(2, "group", true);
    r.register_service(1, "solo", true);

    EXPECT_EQ(r.drop_session(1), (std::vector<ServiceEvent>{down("/alpha"), down("/mid/x"), down("/solo"),
                                                            down("/zeta")}));
    EXPECT_TRUE(r.names_of(1).empty());
    EXPECT_EQ(r.names_of(2), (std::vector<std::string>{"/group", "/kept"}));
    EXPECT_EQ(r.services(), (std::vector<ServiceSummary>{{"/group", 1, true}, {"/kept", 1, false}}));
    EXPECT_EQ(detail(r, "/kept").owner, SessionId{2});
    EXPECT_TRUE(r.drop_session(1).empty());  // already gone
}

TEST(HubRegistry, DropUnknownSessionEmitsNothing) {
    Registry r;
    EXPECT_TRUE(r.drop_session(42).empty());
    r.register_service(1, "kv", false);
    EXPECT_TRUE(r.drop_session(42).empty());
    EXPECT_EQ(r.size(), 1u);
    EXPECT_EQ(detail(r, "/kv").owner, SessionId{1});
}

TEST(HubRegistry, SessionMayProvideAndCallItself) {
    Registry r;
    r.register_service(1, "echo", false);
    EXPECT_EQ(r.route("/echo"), (Route{"/echo", 1}));  // §5.4: the caller may be the provider
}

TEST(HubRegistry, ErrorStringsAreExact) {
    EXPECT_EQ(service_not_found("/x"), "service not found: /x");
    EXPECT_EQ(provider_unavailable(), "provider unavailable");
    EXPECT_EQ(call_header_too_large(), "call header too large");
    EXPECT_EQ(invalid_call_header(), "invalid call header");
    EXPECT_EQ(invalid_arguments(), "invalid arguments");
    EXPECT_EQ(invalid_service_name("a b"), "invalid service name: a b");
    EXPECT_EQ(reserved_service_name("/qtalk"), "reserved service name: /qtalk");
    EXPECT_EQ(service_mode_conflict("/kv"), "service mode conflict: /kv");
    EXPECT_EQ(not_registered("/kv"), "not registered: /kv");
    EXPECT_EQ(not_found("/qtalk/nope"), "not found: /qtalk/nope");
    EXPECT_EQ(permission_denied(), "permission denied");
    EXPECT_EQ(session_not_found(7), "session not found: 7");
}

}  // namespace
}  // namespace qtalkd
