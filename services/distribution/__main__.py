from services.distribution.app import create
from services.distribution.settings import DistributionSettings
from shared.serve import serve

serve(create, DistributionSettings())
