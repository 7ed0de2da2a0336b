// epoll: not in Swift's Glibc module map. For berth-bench's simulated agents only.
#include <sys/epoll.h>
