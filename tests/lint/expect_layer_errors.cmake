# Runs scripts/check_layers on the bad fixture and checks it fails with
# exactly the two offending includes and the reach under the service, each
# named with file and line.
execute_process(COMMAND ${PYTHON} ${SCRIPT} ${ROOT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "check_layers exited ${rc} on the bad fixture, want 1")
endif()
foreach(want
    "registry/core/up.h:4: core includes service/registry_service.h"
    "registry/store/sideways.cc:3: store includes blob/blob_store.h"
    "registry/api/reach.cc:4: api calls blobs() under the service"
    "check_layers: 3 problem(s) against the layer table")
  string(FIND "${out}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "missing from check_layers' output: ${want}")
  endif()
endforeach()
