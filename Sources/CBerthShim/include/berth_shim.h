#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H
#endif
