// Down: allowed.
#include "store/database.h"
#include "core/status.h"
