// Capture loading: decode both directions, merge them in timeline order, pair channel ids.
#include "support/capture.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "qtalk/frame/decoder.hpp"
#include "support/hex.hpp"

namespace qtalk::test {

namespace {
struct Msg {
    Side side;
    std::size_t offset, end;
    frame::Message m;
    std::size_t order = 0;  // timeline chunk in which the message completed
};

std::vector<Msg> decode_all(const std::vector<std::byte>& bin, Side side) {
    std::vector<Msg> out;
    std::size_t off = 0;
    while (off < bin.size()) {
        auto r = frame::decode(std::span(bin).subspan(off), 1u << 31);
        if (!r || !*r) throw std::runtime_error("capture does not decode");
        out.push_back({side, off, off + (*r)->consumed, (*r)->message});
        off += (*r)->consumed;
    }
    return out;
}
}  // namespace

Capture load_capture(const std::string& name) {
    auto cbin = read_file(vector_path(name + "-checker.bin"));
    auto ibin = read_file(vector_path(name + "-interop.bin"));
    auto msgs = decode_all(cbin, Side::checker);
    auto imsgs = decode_all(ibin, Side::interop);
    // Timeline: chunk k of direction d covers [offset, offset+len).
    std::ifstream tl(vector_path(name + ".timeline"));
    std::string line;
    std::vector<std::pair<std::size_t, std::size_t>> chunk_end[2];  // (end offset, seq)
    while (std::getline(tl, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream is(line);
        std::size_t seq, dir, off, len;
        is >> seq >> dir >> off >> len;
        chunk_end[dir].push_back({off + len, seq});
    }
    auto order_of = [&](const Msg& m) {
        auto& ends = chunk_end[m.side == Side::checker ? 0 : 1];
        auto it = std::lower_bound(ends.begin(), ends.end(), std::make_pair(m.end, std::size_t{0}));
        return it == ends.end() ? SIZE_MAX : it->second;
    };
    msgs.insert(msgs.end(), imsgs.begin(), imsgs.end());
    for (auto& m : msgs) m.order = order_of(m);
    std::stable_sort(msgs.begin(), msgs.end(), [](const Msg& a, const Msg& b) {
        return a.order != b.order ? a.order < b.order : a.offset < b.offset;
    });

    Capture cap;
    std::map<std::uint32_t, std::size_t> by_checker_id, by_interop_id;  // live ids -> channel
    struct Ids {
        std::uint32_t checker = 0, interop = 0;
        bool checker_closed = false, interop_closed = false;
    };
    std::vector<Ids> ids;
    auto finish_if_closed = [&](std::size_t k) {
        if (ids[k].checker_closed && ids[k].interop_closed) {
            by_checker_id.erase(ids[k].checker);
            by_interop_id.erase(ids[k].interop);
        }
    };
    for (auto& msg : msgs) {
        bool from_checker = msg.side == Side::checker;
        if (auto* o = std::get_if<frame::Open>(&msg.m)) {
            cap.channels.push_back({msg.side, {}, {}, {}, false});
            ids.push_back({});
            (from_checker ? ids.back().checker : ids.back().interop) = o->sender;
            (from_checker ? by_checker_id : by_interop_id)[o->sender] = cap.channels.size() - 1;
            continue;
        }
        if (auto* c = std::get_if<frame::OpenConfirm>(&msg.m)) {
            auto k = (from_checker ? by_interop_id : by_checker_id).at(c->recipient);
            (from_checker ? ids[k].checker : ids[k].interop) = c->sender;
            (from_checker ? by_checker_id : by_interop_id)[c->sender] = k;
            continue;
        }
        auto& table = from_checker ? by_interop_id : by_checker_id;  // addressed by the receiver's id
        auto it = table.find(frame::channel_of(msg.m));
        if (it == table.end()) continue;  // stray frame for a finished channel (§6)
        auto k = it->second;
        auto& ch = cap.channels[k];
        auto add_action = [&](Action::Kind kind, std::span<const std::byte> payload) {
            if (from_checker)
                ch.checker_actions.push_back({kind, {payload.begin(), payload.end()}, ch.interop_payload.size()});
        };
        if (auto* d = std::get_if<frame::Data>(&msg.m)) {
            auto& dst = from_checker ? ch.checker_payload : ch.interop_payload;
            dst.insert(dst.end(), d->payload.begin(), d->payload.end());
            add_action(Action::data, d->payload);
        } else if (std::holds_alternative<frame::Eof>(msg.m)) {
            if (!from_checker) ch.interop_eof = true;
            add_action(Action::eof, {});
        } else if (std::holds_alternative<frame::Close>(msg.m)) {
            add_action(Action::close, {});
            (from_checker ? ids[k].checker_closed : ids[k].interop_closed) = true;
            finish_if_closed(k);
        }
    }
    return cap;
}

}  // namespace qtalk::test
