// RespondMux (PROTOCOL §4.7, Go ref): exact patterns, prefix patterns ending in "/", longest
// prefix wins, nested muxes see the rest of the selector; no match -> `not found: <selector>`.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "qtalk/rpc/responder.hpp"

namespace qtalk::rpc {

class RespondMux {
public:
    // Registers `handler` under the normalised pattern. Duplicate -> false.
    bool handle(std::string_view pattern, Handler handler);
    // Mounts a sub-mux under pattern + "/" (prefix stripped before matching inside it).
    bool handle(std::string_view pattern, std::shared_ptr<RespondMux> sub);
    // Removes the entry for the normalised pattern (handler or sub-mux). Absent -> false.
    bool remove(std::string_view pattern);
    // The handler for a normalised selector, or nullptr.
    const Handler* match(std::string_view selector) const;
    // As a Handler: dispatch or reply `not found: <normalised selector>`.
    Handler as_handler() const;
    Task<void> operator()(Responder& r, Call& c) const;

private:
    struct Entry {
        Handler handler;
        std::shared_ptr<RespondMux> sub;
    };
    std::map<std::string, Entry, std::less<>> entries_;
};

// Go's NotFoundHandler: `not found: <normalised selector>`.
Task<void> not_found(Responder& r, Call& c);

}  // namespace qtalk::rpc
