#ifndef CLinuxEvents_SHIM_H
#define CLinuxEvents_SHIM_H
// epoll and eventfd, which Swift's Glibc module leaves out: the database client's I/O thread
// waits on its connections' sockets with them.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
