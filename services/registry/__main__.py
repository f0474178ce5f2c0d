from services.registry.app import create
from services.registry.settings import RegistrySettings
from shared.serve import serve

serve(create, RegistrySettings())
