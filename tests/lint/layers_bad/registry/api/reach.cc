// Reaches under the service: the api may use its use cases only.
#include "service/registry_service.h"

auto& Blobs(modelreg::RegistryService& svc) { return svc.blobs(); }
