// The byte relay (see relay.hpp): plain sockets and epoll, so that nothing but the kernel's work
// and one copy through user space is measured.
#include "relay.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "process.hpp"

namespace qbench {
namespace {

constexpr std::size_t relay_buffer = 64 * 1024;  // as qtalkd's reads

bool set_nonblocking(int fd) {
    int fl = ::fcntl(fd, F_GETFL);
    return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

void set_nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on unix sockets
}

// A blocking connect to unix:///path or tcp://host:port; -1 on failure.
int dial(const std::string& url) {
    if (url.starts_with("unix://")) {
        auto path = url.substr(7);
        if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return -1;
        auto a = unix_addr(path);
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
        if (fd >= 0) ::close(fd);
        return -1;
    }
    if (!url.starts_with("tcp://")) return -1;
    auto hostport = url.substr(6);
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) return -1;
    auto host = hostport.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (::getaddrinfo(host.c_str(), hostport.substr(colon + 1).c_str(), &hints, &res) != 0) return -1;
    int fd = -1;
    for (auto* ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(res);
    if (fd >= 0) set_nodelay(fd);
    return fd;
}

struct Source {
    virtual void on_events(std::uint32_t ev) = 0;

protected:
    ~Source() = default;
};

class Relay;

// One side of a relayed connection. `buf` holds bytes read from this side and not yet sent to
// the other; while it does, this side is not read (the other side's window, so to speak).
struct Pair;
struct End final : Source {
    Relay* relay = nullptr;
    Pair* pair = nullptr;
    int fd = -1;
    End* peer = nullptr;
    std::unique_ptr<char[]> buf{new char[relay_buffer]};
    std::size_t off = 0, len = 0;
    std::uint32_t armed = 0;
    void on_events(std::uint32_t ev) override;
};

struct Pair {
    End a, b;
    bool closed = false;
};

struct Listening final : Source {
    Relay* relay = nullptr;
    int fd = -1;
    std::string target;
    void on_events(std::uint32_t ev) override;
};

class Relay {
public:
    Relay() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {}

    bool add_listener(int fd, std::string target) {
        if (!set_nonblocking(fd)) return false;
        auto l = std::make_unique<Listening>();
        l->relay = this;
        l->fd = fd;
        l->target = std::move(target);
        epoll_event e{EPOLLIN, {.ptr = static_cast<Source*>(l.get())}};
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e) != 0) return false;
        listeners_.push_back(std::move(l));
        return true;
    }

    [[noreturn]] void run() {
        epoll_event evs[64];
        for (;;) {
            int n = ::epoll_wait(ep_, evs, 64, -1);
            for (int i = 0; i < n; ++i) static_cast<Source*>(evs[i].data.ptr)->on_events(evs[i].events);
            closed_.clear();  // after the batch: a later event of this batch may name a closed pair
        }
    }

    void accept_from(Listening& l) {
        for (;;) {
            int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            set_nodelay(fd);
            int up = dial(l.target);
            if (up < 0 || !set_nonblocking(up)) {
                std::fprintf(stderr, "relay: dial %s: %s\n", l.target.c_str(), std::strerror(errno));
                ::close(fd);
                if (up >= 0) ::close(up);
                continue;
            }
            auto p = std::make_unique<Pair>();
            p->a.fd = fd;
            p->b.fd = up;
            p->a.peer = &p->b;
            p->b.peer = &p->a;
            for (End* e : {&p->a, &p->b}) {
                e->relay = this;
                e->pair = p.get();
                e->armed = EPOLLIN;
                epoll_event ev{EPOLLIN, {.ptr = static_cast<Source*>(e)}};
                ::epoll_ctl(ep_, EPOLL_CTL_ADD, e->fd, &ev);
            }
            pairs_.push_back(std::move(p));
        }
    }

    // Read from `e` (only when nothing of it is pending) and pass it on at once.
    void readable(End& e) {
        if (e.len) return;
        auto n = ::recv(e.fd, e.buf.get(), relay_buffer, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close(e);
        if (n < 0) return;
        e.off = 0;
        e.len = static_cast<std::size_t>(n);
        flush(e);
    }

    // Sends what `src` holds to its peer; re-arms both sides for what is left.
    void flush(End& src) {
        while (src.len) {
            auto w = ::send(src.peer->fd, src.buf.get() + src.off, src.len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0) {
                if (errno == EAGAIN) break;
                if (errno == EINTR) continue;
                return close(src);
            }
            src.off += static_cast<std::size_t>(w);
            src.len -= static_cast<std::size_t>(w);
        }
        arm(src);
        arm(*src.peer);
    }

    void close(End& e) {
        auto* p = e.pair;
        if (p->closed) return;
        p->closed = true;
        for (End* x : {&p->a, &p->b}) {
            ::epoll_ctl(ep_, EPOLL_CTL_DEL, x->fd, nullptr);
            ::close(x->fd);
        }
        for (auto it = pairs_.begin(); it != pairs_.end(); ++it)
            if (it->get() == p) {
                closed_.push_back(std::move(*it));
                pairs_.erase(it);
                break;
            }
    }

private:
    // Readable while nothing it sent is pending; writable while its peer has bytes for it.
    void arm(End& e) {
        std::uint32_t want = (e.len == 0 ? std::uint32_t{EPOLLIN} : 0u) | (e.peer->len ? std::uint32_t{EPOLLOUT} : 0u);
        if (want == e.armed) return;
        e.armed = want;
        epoll_event ev{want, {.ptr = static_cast<Source*>(&e)}};
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, e.fd, &ev);
    }

    int ep_;
    std::vector<std::unique_ptr<Listening>> listeners_;
    std::vector<std::unique_ptr<Pair>> pairs_, closed_;
};

void End::on_events(std::uint32_t ev) {
    if (pair->closed) return;  // closed earlier in this batch
    // Hang-up and error are reported even while this side is not read (its bytes wait for the
    // peer): with nothing more to come from it, end the pair rather than be woken for it forever.
    if ((ev & (EPOLLHUP | EPOLLERR)) && len) return relay->close(*this);
    if (ev & EPOLLOUT) relay->flush(*peer);
    if (!pair->closed && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) relay->readable(*this);
}

void Listening::on_events(std::uint32_t) { relay->accept_from(*this); }

// A listening socket the child inherits (no close-on-exec), and the URL that reaches it.
int listen_for(const Config& cfg, std::string_view kind, std::size_t i, std::string* url) {
    if (kind == "unix") {
        auto path = cfg.tmp / ("relay" + std::to_string(i) + ".sock");
        auto a = unix_addr(path);
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
            if (fd >= 0) ::close(fd);
            return -1;
        }
        *url = "unix://" + path.string();
        return fd;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (fd >= 0) ::close(fd);
        return -1;
    }
    *url = "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    return fd;
}

}  // namespace

std::unique_ptr<RelayProcess> RelayProcess::start(const Config& cfg, const std::vector<Route>& routes,
                                                  std::string* error) {
    auto r = std::unique_ptr<RelayProcess>(new RelayProcess);
    std::vector<std::string> argv{(cfg.bin_dir / "qtalk-bench").string(), "--relay"};
    std::vector<int> fds;
    for (std::size_t i = 0; i < routes.size(); ++i) {
        std::string url;
        int fd = listen_for(cfg, routes[i].kind, i, &url);
        if (fd < 0) {
            *error = "relay: listen: " + std::string(std::strerror(errno));
            for (int f : fds) ::close(f);
            return nullptr;
        }
        fds.push_back(fd);
        r->urls_.push_back(url);
        argv.push_back(std::to_string(fd) + "=" + routes[i].target);
    }
    // Connections queue on the listening sockets from now on: no readiness to wait for.
    r->pid_ = spawn_process(argv, {}, cfg.tmp / "relay.log");
    for (int f : fds) ::close(f);
    if (r->pid_ <= 0) {
        *error = "relay: fork failed";
        return nullptr;
    }
    return r;
}

RelayProcess::~RelayProcess() {
    if (pid_ > 0) stop_process(pid_);
}

int relay_main(int argc, char** argv) {
    Relay relay;
    for (int i = 2; i < argc; ++i) {
        std::string_view arg(argv[i]);
        auto eq = arg.find('=');
        int fd = eq == std::string_view::npos ? -1 : std::atoi(std::string(arg.substr(0, eq)).c_str());
        if (fd < 0 || !relay.add_listener(fd, std::string(arg.substr(eq + 1)))) {
            std::fprintf(stderr, "usage: qtalk-bench --relay FD=URL [FD=URL ...] (bad: %s)\n", argv[i]);
            return 2;
        }
    }
    relay.run();
}

}  // namespace qbench
