// What the shared engine (host/shared-server.ts) needs of the OS that Node does not offer.
#pragma once

#include <napi.h>

// peerUid(fd) -> the user id of the process at the other end of a connected Unix domain socket
// (SO_PEERCRED on Linux, getpeereid elsewhere): the shared engine serves only its own user.
Napi::Value peer_uid(const Napi::CallbackInfo & info);

// holdLock(path) -> true when this process now holds an exclusive flock on the file (created
// 0600), false when another process holds it. The lock lasts until the process exits, however it
// exits: a crashed engine leaves no stale lock behind.
Napi::Value hold_lock(const Napi::CallbackInfo & info);
