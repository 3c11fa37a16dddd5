// fork/exec with stdin/stdout pipes, and a bounded SIGINT -> SIGKILL stop.
#include "interop/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace qtalk::interop {

std::error_code spawn(const std::vector<std::string>& argv, Child& out) {
    int in[2], outp[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return {errno, std::system_category()};
    if (::pipe2(outp, O_CLOEXEC) != 0) return {errno, std::system_category()};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return {errno, std::system_category()};
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(outp[1], 1);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(outp[1]);
    out = Child{pid, in[1], outp[0]};
    return {};
}

int stop(Child& c, std::chrono::milliseconds grace) {
    if (c.pid <= 0) return 0;
    ::kill(c.pid, SIGINT);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (::waitpid(c.pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(c.pid, SIGKILL);
            ::waitpid(c.pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    c.pid = -1;
    return status;
}

}  // namespace qtalk::interop
