// Selector normalisation, PROTOCOL §4.6.
#include "qtalk/rpc/selector.hpp"

#include <algorithm>

namespace qtalk::rpc {

std::string normalize_selector(std::string_view selector) {
    std::string s;
    s.reserve(selector.size() + 1);
    if (selector.empty() || selector.front() != '/') s.push_back('/');
    s.append(selector);
    std::replace(s.begin(), s.end(), '.', '/');
    return s;
}

}  // namespace qtalk::rpc
