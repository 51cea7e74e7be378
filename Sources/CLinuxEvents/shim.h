#ifndef CLinuxEvents_SHIM_H
#define CLinuxEvents_SHIM_H
// epoll and eventfd, which Swift's Glibc module leaves out: the database client's I/O thread
// waits on its connections' sockets with them. And a thread name for that thread (prctl is
// variadic, which Swift cannot call).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

static inline int clinux_set_thread_name(const char *name) {
  return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
#endif
