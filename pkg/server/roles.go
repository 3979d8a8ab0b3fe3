package server

import (
	"strings"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// readMethods are the calls a read token may make: every Get and List of
// both services, and reflection. Every other method needs an admin token,
// so a call added to a service later is closed until it is listed here.
var readMethods = map[string]bool{
	slapipev1.SLAManager_GetSLA_FullMethodName:         true,
	slapipev1.SLAManager_ListMetrics_FullMethodName:    true,
	slapipev1.SLAManager_ListRuns_FullMethodName:       true,
	slapipev1.SLAManager_GetViolations_FullMethodName:  true,
	slapipev1.SLAManager_GetPredictions_FullMethodName: true,
	slapipev1.SLAManager_GetStatus_FullMethodName:      true,
	slapipev1.SLAManager_GetBudget_FullMethodName:      true,

	slapipev1.DataRetrieval_ListMetrics_FullMethodName: true,
	slapipev1.DataRetrieval_ListSeries_FullMethodName:  true,
	slapipev1.DataRetrieval_GetStats_FullMethodName:    true,
	slapipev1.DataRetrieval_GetMetadata_FullMethodName: true,
	slapipev1.DataRetrieval_GetForecast_FullMethodName: true,
	slapipev1.DataRetrieval_ListRuns_FullMethodName:    true,

	reflectionv1.ServerReflection_ServerReflectionInfo_FullMethodName:      true,
	reflectionv1alpha.ServerReflection_ServerReflectionInfo_FullMethodName: true,
}

// requiredRole returns the role a method needs, or "" for the methods open
// to everyone (the health service, which load balancers and orchestrators
// probe without credentials).
func requiredRole(method string) Role {
	if strings.HasPrefix(method, "/"+healthpb.Health_ServiceDesc.ServiceName+"/") {
		return ""
	}
	if readMethods[method] {
		return RoleRead
	}
	return RoleAdmin
}
