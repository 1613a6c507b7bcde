"""The venue types the documents name (R4.2, JX57-3.8, JX57-3.9, XC-2.2), each with the time
a visit is taken to last when nobody records the exit. Loaded by the migration
`0002_venue_types`, and again by `ensure_types` where a test's flush or a fresh demo database
may have lost them."""

TYPES = [
    # code, Chinese, English, minutes, reservation by default, enclosed
    ("passenger_station", "客运场站", "Passenger station", 30, False, True),
    ("residential_compound", "居住小区", "Residential compound", 60, False, False),
    ("factory", "工厂厂区", "Factory", 480, False, True),
    ("office_building", "商务楼宇", "Office building", 480, False, True),
    ("service_hall", "行政服务中心", "Administrative service hall", 60, True, True),
    ("school", "学校", "School", 480, False, True),
    ("telecom_outlet", "电信营业厅", "Telecom outlet", 30, False, True),
    ("bank_outlet", "银行网点", "Bank outlet", 30, False, True),
    ("restaurant", "餐饮场所", "Restaurant", 90, False, True),
    ("hotel", "宾馆酒店", "Hotel", 720, False, True),
    ("supermarket", "超市", "Supermarket", 45, False, True),
    ("market", "农贸市场", "Market", 45, False, False),
    ("shopping_mall", "商场", "Shopping mall", 120, False, True),
    ("barber", "理发店", "Barber", 60, False, True),
    ("ktv", "KTV", "KTV", 180, True, True),
    ("internet_cafe", "网吧", "Internet café", 240, False, True),
    ("cinema", "影剧院", "Cinema or theatre", 150, True, True),
    ("gym", "健身场馆", "Gym or sports hall", 90, True, True),
    ("bathhouse", "洗浴场所", "Bathhouse", 120, False, True),
    ("medical_institution", "医疗卫生机构", "Medical institution", 120, True, True),
    ("elderly_care", "养老机构", "Elderly-care home", 240, True, True),
    ("construction_site", "建筑工地", "Construction site", 480, False, False),
    ("place_of_worship", "宗教活动场所", "Place of worship", 90, True, True),
    ("tourist_site", "旅游景区", "Tourist site", 180, True, False),
]


def load(VenueType) -> int:
    """Write every type (the model class given, so a migration can pass its historical one)."""
    for order, (code, zh, en, minutes, reservation, enclosed) in enumerate(TYPES):
        VenueType.objects.update_or_create(
            code=code,
            defaults=dict(
                name_zh=zh,
                name_en=en,
                dwell_minutes=minutes,
                reservation_default=reservation,
                enclosed=enclosed,
                order=order,
            ),
        )
    return len(TYPES)


def ensure_types() -> None:
    from epigrid.venues.models import VenueType

    if not VenueType.objects.exists():
        load(VenueType)
