// Extended attributes (fsetxattr, lsetxattr): not in Swift's Glibc module map.
#include <sys/xattr.h>
