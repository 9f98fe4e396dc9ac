module github.com/openshift/cluster-api-provider-agent/api

go 1.22
