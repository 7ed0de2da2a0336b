#include "berth_shim.h"
