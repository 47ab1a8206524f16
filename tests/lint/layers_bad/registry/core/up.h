// Up: core may not include the service.
#pragma once
#include "core/status.h"
#include "service/registry_service.h"
