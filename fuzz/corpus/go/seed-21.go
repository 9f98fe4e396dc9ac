package nodepool

import capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"

//invariant:ignore capi-boundary/provider-read // want "suppression/missing-reason"
var legacyMachine = &capiazure.AzureMachine{}

//invariant:ignore adapt-purity -- this line has no adapt function // want "suppression/unused"
var legacyCount = 0
