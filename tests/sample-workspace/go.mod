module github.com/openshift/hypershift

go 1.24
