module sigs.k8s.io/cluster-api-provider-azure

go 1.22
