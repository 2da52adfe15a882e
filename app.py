"""hazmap web app: page configuration, sign-in and navigation only; each page lives in ui/."""

import streamlit as st

from geo.access import auth
from ui import admin_page, common, data_page, evacuation_page, map_page, pools_page, warning_page
from ui import auth as signin

st.set_page_config(page_title="昌江区地灾防治与游泳教育一张图", page_icon="🗺️", layout="wide")
common.language_switch()
user = signin.gate()

if user is None:
    PAGES = [st.Page(signin.login_page, title=common.tr("登录", "Sign in"), icon="🔑", url_path="login", default=True)]
else:
    # Every role browses every page; what a page lets a user change depends on the role (the Data page's editing and
    # import need editor).  The admin page is not even listed for the others.
    PAGES = [
        st.Page(map_page.render, title=common.tr("地图", "Map"), icon="🗺️", url_path="map", default=True),
        st.Page(warning_page.render, title=common.tr("预警", "Warning"), icon="⚠️", url_path="warning"),
        st.Page(evacuation_page.render, title=common.tr("疏散", "Evacuation"), icon="🏃", url_path="evacuation"),
        st.Page(pools_page.render, title=common.tr("游泳", "Pools"), icon="🏊", url_path="pools"),
        st.Page(data_page.render, title=common.tr("数据", "Data"), icon="🗂️", url_path="data"),
    ]
    if auth.allowed(user, "admin"):
        PAGES.append(st.Page(admin_page.render, title=common.tr("管理", "Admin"), icon="⚙️", url_path="admin"))
st.navigation(PAGES).run()
