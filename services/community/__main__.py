from services.community.app import create
from services.community.settings import CommunitySettings
from shared.serve import serve

serve(create, CommunitySettings())
