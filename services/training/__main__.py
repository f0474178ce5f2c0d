from services.training.app import create
from services.training.settings import TrainingSettings
from shared.serve import serve

serve(create, TrainingSettings())
