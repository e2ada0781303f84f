// Data Validation for Dynamics 365: everything `azd up` provisions.
//
// Subscription scope (azd convention): creates the resource group `rg-<environment>` and deploys
// modules/app.bicep into it. Plain resources only (no registry modules), so tests/infra can check
// the templates offline. Setup guide: docs/setup.md. Every parameter below is fed by
// main.parameters.json from the azd environment (`azd env set NAME value`).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds the resource-name token.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. Must offer Flex Consumption: az functionapp list-flexconsumption-locations')
param location string

@description('Object id of the person running azd (AZURE_PRINCIPAL_ID). Gets the data roles an admin needs to upload the profile file and to set secrets. Empty: none.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal'])
@description('Kind of principal in principalId (a pipeline deploys as ServicePrincipal).')
param principalType string = 'User'

@minLength(1)
@description('Organisation root URL of Dataverse, e.g. https://contoso.crm4.dynamics.com (app setting DATAVERSE_URL).')
param dataverseUrl string

@allowed(['managed_identity', 'client_secret'])
@description('How the app signs in to Dataverse (DATAVERSE_AUTH). managed_identity: the Function App\'s own identity, no secret anywhere (recommended).')
param dataverseAuth string = 'managed_identity'

@description('client_secret mode only, and then required (the deployment fails without it): the app registration\'s application (client) id (DATAVERSE_CLIENT_ID). The secret itself never passes through the template: DATAVERSE_CLIENT_SECRET is a Key Vault reference to the secret dataverse-client-secret, which the admin sets (docs/setup.md).')
param dataverseClientId string = ''

@minLength(36)
@maxLength(36)
@description('Application (client) id of the Entra app registration that protects the settings API and defines the app roles DataValidation.Admin and DataValidation.Reader.')
param apiClientId string

@allowed(['jwt', 'platform'])
@description('API_AUTH. jwt: the app validates the Entra token itself (signature, audience, issuer, roles). platform: the app trusts the principal that App Service Authentication passes on.')
param apiAuthMode string = 'jwt'

@description('App role that may change settings and start runs (API_ADMIN_ROLE).')
param apiAdminRole string = 'DataValidation.Admin'

@description('App role that may read settings, status and runs (API_READER_ROLE).')
param apiReaderRole string = 'DataValidation.Reader'

@description('When the daily scan runs: NCRONTAB with six fields, always UTC (SCAN_SCHEDULE).')
param scanSchedule string = '0 0 2 * * *'

@allowed(['file', 'pdl'])
@description('Person-profile source (PROFILE_SOURCE): a snapshot file in Blob storage, or People Data Labs. pdl: PDL_API_KEY is a Key Vault reference to the secret pdl-api-key, which the admin sets (docs/setup.md); the key never passes through the template.')
param profileSource string = 'file'

@description('Profile snapshot location (PROFILE_FILE). blob://<container>/<name> is read from this deployment\'s storage account with the app\'s identity.')
param profileFile string = 'blob://profiles/profiles.jsonl'

@minValue(40)
@maxValue(1000)
@description('Flex Consumption scale-out limit per function group.')
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
@description('Memory of each instance in MB.')
param instanceMemoryMB int = 2048

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module app 'modules/app.bicep' = {
  name: 'data-validation-app'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    principalId: principalId
    principalType: principalType
    dataverseUrl: dataverseUrl
    dataverseAuth: dataverseAuth
    dataverseClientId: dataverseClientId
    apiClientId: apiClientId
    apiAuthMode: apiAuthMode
    apiAdminRole: apiAdminRole
    apiReaderRole: apiReaderRole
    scanSchedule: scanSchedule
    profileSource: profileSource
    profileFile: profileFile
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

// azd stores these in the environment (.azure/<env>/.env); docs/setup.md uses them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output FUNCTION_APP_NAME string = app.outputs.functionAppName
output FUNCTION_APP_URL string = app.outputs.functionAppUrl
output FUNCTION_APP_PRINCIPAL_ID string = app.outputs.functionAppPrincipalId
output STORAGE_ACCOUNT_NAME string = app.outputs.storageAccountName
output KEY_VAULT_NAME string = app.outputs.keyVaultName
output APPLICATIONINSIGHTS_NAME string = app.outputs.applicationInsightsName
