#include "shared_engine.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

static bool socket_peer_uid(int fd, uid_t & uid) {
#if defined(__linux__)
    struct ucred cred = {};
    socklen_t    len  = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return false;
    }
    uid = cred.uid;
    return true;
#else
    gid_t gid = 0;
    return getpeereid(fd, &uid, &gid) == 0;
#endif
}

Napi::Value peer_uid(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
        Napi::TypeError::New(env, "peerUid expects a socket file descriptor").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    uid_t uid = 0;
    if (!socket_peer_uid(info[0].As<Napi::Number>().Int32Value(), uid)) {
        Napi::Error::New(env, std::string(__func__) + ": cannot read the peer's credentials: " + strerror(errno))
            .ThrowAsJavaScriptException();
        return env.Undefined();
    }
    return Napi::Number::New(env, (double) uid);
}

Napi::Value hold_lock(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        Napi::TypeError::New(env, "holdLock expects a file path").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    // deliberately never closed: the descriptor holds the lock for the life of the process
    const int         fd   = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        Napi::Error::New(env, std::string(__func__) + ": cannot open " + path + ": " + strerror(errno))
            .ThrowAsJavaScriptException();
        return env.Undefined();
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        close(fd);
        if (err == EWOULDBLOCK) {
            return Napi::Boolean::New(env, false);
        }
        Napi::Error::New(env, std::string(__func__) + ": cannot lock " + path + ": " + strerror(err))
            .ThrowAsJavaScriptException();
        return env.Undefined();
    }
    return Napi::Boolean::New(env, true);
}
