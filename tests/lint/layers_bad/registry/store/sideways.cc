// Sideways: store may not include blob.
#include "store/database.h"
#include "blob/blob_store.h"
